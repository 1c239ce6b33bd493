#!/bin/sh
# Renders the standalone nginx configuration and the livestreamd snippets into RUNDIR
# (for `make run` and the tests; behind your own nginx, use `livestreamd nginx-config`).
#   nginx/render.sh RUNDIR   (LIVESTREAMD_BIN: the binary; default: the debug build)
# Settings come from the environment (defaults = `make run`):
#   HTTP_PORT=8080 INTERNAL_PORT=8081 RTMP_PORT=1935 RTMP_LISTEN=127.0.0.1:$RTMP_PORT
#   SOCKET=RUNDIR/livestreamd.sock HLS_DIR=RUNDIR/hls ARCHIVE_DIR=var/archive
#   INGEST_APP=live API_PREFIX="" HLS_URL=http://127.0.0.1:$HTTP_PORT/hls ARCHIVE_URL=.../archive
#   (the live and archive URLs go into the console's security policy)
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
chmod 0640 "$TOKEN_FILE"
umask 022
# Workers write HLS and run the archiver: as root they would run as nobody, so keep the invoking user.
if [ "$(id -u)" = 0 ]; then user_directive="user root;"; else user_directive=""; fi
# The standalone nginx.conf (make run, the tests) is rendered here; the three snippets come from
# livestreamd itself (`livestreamd nginx-config`), from these settings given as its configuration.
sed -e "s|@RUNDIR@|$rundir|g" -e "s|@USER_DIRECTIVE@|$user_directive|g" -e "s|@HTTP_PORT@|$HTTP_PORT|g" \
    "$here/nginx.conf.in" > "$rundir/nginx.conf"
chmod 0600 "$rundir/nginx.conf"
bin=${LIVESTREAMD_BIN:-$(cd "$here/.." && swift build --show-bin-path)/livestreamd}
LIVESTREAM_SERVER_SOCKET=$SOCKET \
LIVESTREAM_SERVER_API_PREFIX=$API_PREFIX \
LIVESTREAM_MEDIA_LOCAL_CONTROL_URL=http://127.0.0.1:$INTERNAL_PORT/control \
LIVESTREAM_MEDIA_LOCAL_STAT_URL=http://127.0.0.1:$INTERNAL_PORT/stat \
LIVESTREAM_MEDIA_LOCAL_RTMP_LISTEN=$RTMP_LISTEN \
LIVESTREAM_MEDIA_LOCAL_INGEST_APP=$INGEST_APP \
LIVESTREAM_MEDIA_LOCAL_HLS_DIRECTORY=$HLS_DIR \
LIVESTREAM_MEDIA_LOCAL_HLS_URL=${HLS_URL:-http://127.0.0.1:$HTTP_PORT/hls} \
LIVESTREAM_ARCHIVE_FILE_URL=${ARCHIVE_URL:-http://127.0.0.1:$HTTP_PORT/archive} \
LIVESTREAM_ARCHIVE_FILE_DIRECTORY=$ARCHIVE_DIR \
LIVESTREAM_MEDIA_LOCAL_INTERNAL_TOKEN_FILE=$TOKEN_FILE \
LIVESTREAM_MEDIA_LOCAL_ARCHIVER=$here/archiver.sh \
LIVESTREAM_MEDIA_LOCAL_ARCHIVER_LOG=$rundir/logs/archiver.log \
    "$bin" nginx-config --out "$rundir" >/dev/null
echo "$rundir/nginx.conf"
