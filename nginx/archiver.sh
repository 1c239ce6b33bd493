#!/bin/sh
# The local pipeline's archiver, started by nginx-rtmp's exec_push for each accepted publisher:
#   archiver.sh HOOK_URL RTMP_PORT APP PUBLIC_NAME LOG_FILE TOKEN_FILE
# Asks livestreamd where this session's segments go (folder, name prefix, first
# counter, segment length), then becomes ffmpeg cutting MPEG-TS segments and a
# CSV list of their real lengths. nginx starts it with an empty environment and
# umask 0, and restarts it 5 s after it dies (the counter continues, nothing is
# overwritten).
PATH=/usr/local/bin:/usr/bin:/bin
umask 022
hook=$1 port=$2 app=$3 name=$4 log=${5:-/dev/null} token_file=${6:-/dev/null}
exec 2>>"$log"
# The token goes from its file into the request body, never onto a command line.
answer=$(curl -fsS --max-time 5 --data-urlencode "app=$app" --data-urlencode "name=$name" --data-urlencode "token@$token_file" "$hook") || exit 1
dir=$(printf '%s\n' "$answer" | sed -n 1p)
prefix=$(printf '%s\n' "$answer" | sed -n 2p)
start=$(printf '%s\n' "$answer" | sed -n 3p)
length=$(printf '%s\n' "$answer" | sed -n 4p)
[ -d "$dir" ] || { echo "archiver: $name: no folder $dir" >&2; exit 1; }
echo "archiver: $name: segments $prefix from $start into $dir" >&2
exec ffmpeg -nostdin -hide_banner -loglevel error \
    -i "rtmp://127.0.0.1:$port/$app/$name" \
    -map 0 -c copy -f segment -segment_format mpegts -segment_time "$length" \
    -segment_start_number "$start" \
    -segment_list "$dir/$prefix.$start.csv" -segment_list_type csv \
    "$dir/$prefix.%06d.ts"
