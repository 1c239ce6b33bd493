#!/bin/sh
# `make run`: nginx and livestreamd in the foreground on the embedded defaults.
#   API   http://127.0.0.1:8080/streams
#   RTMP  rtmp://127.0.0.1:1935/live/<key>
# State lives under ./var (streams, archive, nginx runtime). Ctrl-C stops both.
set -eu
cd "$(dirname "$0")/.."
bin="$(swift build -c release --show-bin-path)/livestreamd"
rundir="$(pwd)/var/run"
LIVESTREAMD_BIN=$bin nginx/render.sh "$rundir" >/dev/null
socket="$rundir/livestreamd.sock"
# The secret render.sh put in the nginx snippets; livestreamd checks it on every hook call.
LIVESTREAM_MEDIA_LOCAL_INTERNAL_TOKEN=$(cat "$rundir/internal.token")
export LIVESTREAM_MEDIA_LOCAL_INTERNAL_TOKEN

# spawn-fcgi hands livestreamd the listening socket as fd 0: the default when server.socket is unset.
spawn-fcgi -n -s "$socket" -M 0600 -- "$bin" &
service=$!
nginx -p "$rundir" -e "$rundir/logs/error.log" -c "$rundir/nginx.conf" &
web=$!
stop() {
    trap - INT TERM
    kill -TERM "$service" "$web" 2>/dev/null || true
    wait "$service" 2>/dev/null || true
    wait "$web" 2>/dev/null || true
    exit 0
}
trap stop INT TERM
sleep 1
echo "livestreamd: API http://127.0.0.1:8080/streams  RTMP rtmp://127.0.0.1:1935/live/<key>  (Ctrl-C stops)"
wait "$service" || true
stop
