#!/bin/sh
# Fill nginx/gatehouse.conf.in for a private instance and print the result.
#   usage: nginx/render-conf.sh PREFIX ROOT LISTEN SOCKET > PREFIX/nginx.conf
# All paths must be absolute. Used by `make run`; the integration test does the same in Swift.
set -eu
if [ $# -ne 4 ]; then
    echo "usage: $0 PREFIX ROOT LISTEN SOCKET" >&2
    exit 2
fi
for path in "$1" "$2" "$4"; do
    case $path in
        /*) ;;
        *) echo "$0: '$path' is not an absolute path" >&2; exit 2 ;;
    esac
done
if [ "$(id -u)" -eq 0 ]; then user_line='user root;'; else user_line=''; fi
here=$(dirname "$0")
# Escape what sed's replacement text treats specially.
esc() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }
sed -e "s|@PREFIX@|$(esc "$1")|g" -e "s|@ROOT@|$(esc "$2")|g" -e "s|@LISTEN@|$(esc "$3")|g" \
    -e "s|@SOCKET@|$(esc "$4")|g" -e "s|@USER_LINE@|$user_line|g" "$here/gatehouse.conf.in"
