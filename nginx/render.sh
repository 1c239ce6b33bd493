#!/bin/sh
# Renders the standalone nginx configuration and the livestreamd snippets into RUNDIR.
#   nginx/render.sh RUNDIR
# Settings come from the environment (defaults = `make run`):
#   HTTP_PORT=8080 INTERNAL_PORT=8081 RTMP_PORT=1935 RTMP_LISTEN=127.0.0.1:$RTMP_PORT
#   SOCKET=RUNDIR/livestreamd.sock HLS_DIR=RUNDIR/hls ARCHIVE_DIR=var/archive
#   INGEST_APP=live API_PREFIX=""
#   INTERNAL_TOKEN: the secret of nginx <-> livestreamd calls (media.local.internal_token);
#     unset = the one in RUNDIR/internal.token, made on first use
set -eu
here=$(cd "$(dirname "$0")" && pwd)
rundir=$(mkdir -p "$1" && cd "$1" && pwd)
HTTP_PORT=${HTTP_PORT:-8080}
INTERNAL_PORT=${INTERNAL_PORT:-8081}
RTMP_PORT=${RTMP_PORT:-1935}
RTMP_LISTEN=${RTMP_LISTEN:-127.0.0.1:$RTMP_PORT}
SOCKET=${SOCKET:-$rundir/livestreamd.sock}
HLS_DIR=${HLS_DIR:-$rundir/hls}
ARCHIVE_DIR=${ARCHIVE_DIR:-$(pwd)/var/archive}
INGEST_APP=${INGEST_APP:-live}
API_PREFIX=${API_PREFIX:-}
mkdir -p "$rundir/logs" "$rundir/tmp" "$rundir/bench" "$HLS_DIR" "$ARCHIVE_DIR"
TOKEN_FILE=$rundir/internal.token
umask 077
if [ -n "${INTERNAL_TOKEN:-}" ]; then
    printf '%s' "$INTERNAL_TOKEN" > "$TOKEN_FILE"
elif [ ! -s "$TOKEN_FILE" ]; then
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > "$TOKEN_FILE"
fi
INTERNAL_TOKEN=$(cat "$TOKEN_FILE")
chmod 0640 "$TOKEN_FILE"
umask 022
# Workers write HLS and run the archiver: as root they would run as nobody, so keep the invoking user.
if [ "$(id -u)" = 0 ]; then user_directive="user root;"; else user_directive=""; fi
render() {
    sed -e "s|@RUNDIR@|$rundir|g" -e "s|@USER_DIRECTIVE@|$user_directive|g" \
        -e "s|@HTTP_PORT@|$HTTP_PORT|g" -e "s|@INTERNAL_PORT@|$INTERNAL_PORT|g" \
        -e "s|@RTMP_PORT@|$RTMP_PORT|g" -e "s|@RTMP_LISTEN@|$RTMP_LISTEN|g" \
        -e "s|@SOCKET@|$SOCKET|g" -e "s|@HLS_DIR@|$HLS_DIR|g" -e "s|@ARCHIVE_DIR@|$ARCHIVE_DIR|g" \
        -e "s|@INGEST_APP@|$INGEST_APP|g" -e "s|@API_PREFIX@|$API_PREFIX|g" \
        -e "s|@ARCHIVER@|$here/archiver.sh|g" -e "s|@INTERNAL_TOKEN@|$INTERNAL_TOKEN|g" -e "s|@TOKEN_FILE@|$TOKEN_FILE|g" "$1" > "$2"
    chmod 0600 "$2"
}
render "$here/nginx.conf.in" "$rundir/nginx.conf"
for part in rtmp http locations; do
    render "$here/snippets/livestreamd-$part.conf.in" "$rundir/livestreamd-$part.conf"
done
echo "$rundir/nginx.conf"
