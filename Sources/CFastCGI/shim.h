// libfcgi (Debian libfcgi-dev, pkg-config "fcgi"). Only FastCGIServer imports this.
// fcgiapp.h only: fcgi_stdio.h #defines printf/FILE/fopen and must never reach Swift.
#include <fcgiapp.h>
