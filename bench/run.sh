#!/bin/sh
# The benchmark: wrk through nginx against livestreamd (release build) and against
# nginx serving the same bytes as a static file, in the same run. Prints figures.
#   bench/run.sh [SECONDS] [CONNECTIONS]
set -eu
cd "$(dirname "$0")/.."
swift build -c release --product livestreamd >/dev/null
LIVESTREAMD_BIN="$(swift build -c release --show-bin-path)/livestreamd" exec python3 bench/api_throughput.py "$@"
