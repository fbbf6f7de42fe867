// libcmark (Debian libcmark-dev, pkg-config "libcmark"). Only GatehouseMarkdown imports this.
#include <cmark.h>
