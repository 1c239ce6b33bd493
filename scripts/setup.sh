#!/bin/sh
# Installs what livestreamd needs on Debian (only what is missing).
set -eu
# libcurl4-openssl-dev: the static release build (make install) links libcurl itself.
packages="libfcgi-dev libcurl4-openssl-dev nginx libnginx-mod-rtmp ffmpeg spawn-fcgi curl"
# systemd: systemd-analyze checks the installed units; chromium: the console's browser tests (Playwright drives it).
[ "${1:-}" = "--test" ] && packages="$packages wrk strace systemd chromium"
missing=""
for package in $packages; do
    dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
if [ -n "$missing" ]; then
    echo "installing:$missing"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
fi
command -v swift >/dev/null || { echo "swift is not on PATH (Swift 6 toolchain needed)" >&2; exit 1; }
