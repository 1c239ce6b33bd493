#!/bin/sh
# The local pipeline's archiver, started by nginx-rtmp's exec_push for each accepted publisher:
#   archiver.sh HOOK_URL RTMP_PORT APP PUBLIC_NAME LOG_FILE TOKEN_FILE
# Asks livestreamd where this session's segments go (folder, name prefix, first
# counter, segment length, thumbnail), then runs ffmpeg cutting MPEG-TS segments and a
# CSV list of their real lengths, and reports each finished segment to livestreamd
# (counted on the stream record). Beside it, every 5 s, one picture of the stream
# becomes the pipeline's thumbnail (a failure there never touches the archive). nginx starts it with an empty environment and
# umask 0, and restarts it 5 s after it dies (the counter continues, nothing is
# overwritten).
PATH=/usr/local/bin:/usr/bin:/bin
umask 022
hook=$1 port=$2 app=$3 name=$4 log=${5:-/dev/null} token_file=${6:-/dev/null}
# A log we cannot open must not end the archiver silently: report it and go on without one.
log_problem=""
exec 2>>"$log" || { exec 2>/dev/null; log_problem="cannot write the archiver log $log"; }
# Tells livestreamd why archiving failed (it logs it and shows it on the stream record).
failed() {
    echo "archiver: $name: $1" >&2
    curl -fsS --max-time 5 --data-urlencode "name=$name" --data-urlencode "reason=$1" \
        --data-urlencode "token@$token_file" "${hook%/archive}/archive_failed" >/dev/null 2>&1
}
[ -z "$log_problem" ] || failed "$log_problem"
# The token goes from its file into the request body, never onto a command line.
answer=$(curl -fsS --max-time 5 --data-urlencode "app=$app" --data-urlencode "name=$name" --data-urlencode "token@$token_file" "$hook") || exit 1
dir=$(printf '%s\n' "$answer" | sed -n 1p)
prefix=$(printf '%s\n' "$answer" | sed -n 2p)
start=$(printf '%s\n' "$answer" | sed -n 3p)
length=$(printf '%s\n' "$answer" | sed -n 4p)
thumbnail=$(printf '%s\n' "$answer" | sed -n 5p)
[ -d "$dir" ] || { failed "the session folder $dir does not exist"; exit 1; }
[ -w "$dir" ] || { failed "cannot write the session folder $dir (user $(id -un))"; exit 1; }
echo "archiver: $name: segments $prefix from $start into $dir" >&2
errors=$(mktemp) || errors=/dev/null
# ffmpeg as a child, so its failure can be reported; TERM (nginx stopping the archiver) is passed on,
# and ffmpeg closes its last segment.
ffmpeg -nostdin -hide_banner -loglevel error \
    -i "rtmp://127.0.0.1:$port/$app/$name" \
    -map 0 -c copy -f segment -segment_format mpegts -segment_time "$length" \
    -segment_start_number "$start" \
    -segment_list "$dir/$prefix.$start.csv" -segment_list_type csv \
    "$dir/$prefix.%06d.ts" 2>"$errors" &
child=$!
# Each line ffmpeg adds to the segment list is a finished segment; tail ends once ffmpeg has.
tail -n +1 -F --pid="$child" "$dir/$prefix.$start.csv" 2>/dev/null | while IFS=, read -r file from to; do
    curl -fsS --max-time 5 --data-urlencode "name=$name" --data-urlencode "file=$file" \
        --data-urlencode "token@$token_file" "${hook%/archive}/archive_segment" >/dev/null 2>&1
done &
reporter=$!
# The thumbnail: one frame from the next keyframe, scaled to 320 wide, renamed into place.
thumbnailer=
if [ -n "$thumbnail" ]; then
    while kill -0 "$child" 2>/dev/null; do
        ffmpeg -nostdin -hide_banner -loglevel quiet -y -rw_timeout 10000000 -i "rtmp://127.0.0.1:$port/$app/$name" \
            -frames:v 1 -vf scale=320:-2 -c:v mjpeg -f image2 -update 1 "$thumbnail.tmp" </dev/null 2>/dev/null \
            && mv -f "$thumbnail.tmp" "$thumbnail"
        sleep 5
    done &
    thumbnailer=$!
fi
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
wait "$child"
status=$?
# wait returns early when a trapped signal arrives: wait for ffmpeg to finish its last segment.
while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done
wait "$reporter" 2>/dev/null
[ -z "$thumbnailer" ] || kill "$thumbnailer" 2>/dev/null
cat "$errors" >&2
# 255: ffmpeg stopped by TERM (the publisher left or nginx stopped it), which is no failure.
if [ "$status" -ne 0 ] && [ "$status" -ne 255 ] && [ "$status" -lt 128 ]; then
    failed "ffmpeg exited with $status: $(tail -n 1 "$errors" 2>/dev/null)"
fi
[ "$errors" = /dev/null ] || rm -f "$errors"
exit "$status"
