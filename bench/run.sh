#!/bin/sh
# The benchmarks, release build; each prints figures beside a reference from the same run:
#  - api_throughput.py: wrk through nginx against livestreamd and against nginx serving
#    the same bytes as a static file;
#  - split_24h.py: splitting a 24-hour S3 archive (medialive + s3 against the AWS
#    emulator), beside the old one-listing-per-range algorithm;
#  - capacity.py: N 720p publishers through the local pipeline, beside a bare
#    nginx-rtmp HLS + archive application on the same nginx (about 12 minutes).
#   bench/run.sh [SECONDS] [CONNECTIONS]
set -eu
cd "$(dirname "$0")/.."
swift build -c release --product livestreamd >/dev/null
export LIVESTREAMD_BIN="$(swift build -c release --show-bin-path)/livestreamd"
python3 bench/api_throughput.py "$@"
python3 bench/split_24h.py
python3 bench/capacity.py
