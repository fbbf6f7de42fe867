#!/bin/sh
# Example Gatehouse command connector (PRODUCT.md section 5).
#
# Gatehouse runs a resource's connector once per grant or revoke, with no shell and no arguments,
# in the site folder, and writes ONE JSON event on its standard input:
#
#   {"event":"grant","resource":"lab-portal","role":"Reader","person":"allan@contoso.example",
#    "assignment":"…","package":"internal-access-package","at":"2028-03-01T08:00:00Z"}
#
# ("event" is "grant" or "revoke"; "at" is when it was sent, in UTC.) Exit status 0 means done;
# anything else is a failure, retried after 1 min, 5 min, 30 min, 2 h, then every 6 h, ten times in
# all. The first 2 KB of stderr become the error admins see. A connector that runs past the timeout
# is stopped. The same event may come twice (a retry after a crash, an admin's reprocess): apply it
# idempotently.
#
# This one appends each event as a line to the file named by GATEHOUSE_CONNECTOR_LOG (default
# var/connector-events.log, relative to the site folder) and exits 0. For demos it fails (exit 1,
# a message on stderr) while a file of the same name with ".fail" instead of ".log" exists:
#
#   touch var/connector-events.fail    # connector down: deliveries stay pending and are retried
#   rm var/connector-events.fail       # back up: the next sweep delivers them
#
# To use it, declare it on a resource in a catalog: `connector: connectors/example-connector.sh`.
set -u

log=${GATEHOUSE_CONNECTOR_LOG:-var/connector-events.log}
flag=${log%.log}.fail
event=$(cat)

if [ -e "$flag" ]; then
    echo "example connector: $flag exists, failing on purpose" >&2
    exit 1
fi
mkdir -p "$(dirname "$log")" || exit 1
printf '%s\n' "$event" >>"$log" || exit 1
exit 0
