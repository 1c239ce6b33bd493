#!/bin/sh
# `make deb`: a Debian package (dpkg-deb) from the tree `make install` stages with PREFIX=/usr.
# Its postinst makes the user and group, the configuration and the tokens on each host (never
# shipped: every host gets its own), and enables the units where systemd runs.
#   OUT=. : where livestreamd_<version>_<arch>.deb goes
set -eu
cd "$(dirname "$0")/.."
version=$(sed -n 's/.*static let version = "\(.*\)".*/\1/p' Sources/livestreamd/Service.swift)
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
PREFIX=/usr SYSCONFDIR=/etc DESTDIR="$stage/root" HOST_FILES=no scripts/install.sh >/dev/null
mkdir -p "$stage/root/DEBIAN"
cat > "$stage/root/DEBIAN/control" <<CONTROL
Package: livestreamd
Version: $version
Architecture: $arch
Maintainer: livestreamd developers <livestreamd@localhost>
Depends: libc6, libcurl4, libfcgi0ldbl, libstdc++6, systemd, curl
Recommends: nginx, libnginx-mod-rtmp, ffmpeg
Section: video
Priority: optional
Installed-Size: $(du -sk "$stage/root" | cut -f1)
Description: live-stream control service behind nginx
 A FastCGI service with the REST API of the AWS Lambda live-streaming deployment:
 streams, start and stop, live HLS through nginx-rtmp, archives and clips, with
 storage, CDN, media and archive backends chosen by configuration.
CONTROL
cat > "$stage/root/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    systemd-sysusers /usr/lib/sysusers.d/livestreamd.conf
    secret() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
    mkdir -p /etc/livestreamd
    if [ ! -e /etc/livestreamd/internal.token ]; then
        (umask 027 && secret > /etc/livestreamd/internal.token)
    fi
    if [ ! -e /etc/livestreamd/livestreamd.json ]; then
        (umask 027 && sed -e "s|@API_TOKEN@|$(secret)|" /usr/share/livestreamd/livestreamd.json.in > /etc/livestreamd/livestreamd.json)
    fi
    chgrp livestreamd /etc/livestreamd/internal.token /etc/livestreamd/livestreamd.json
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload
        systemctl enable livestreamd.socket livestreamd.service >/dev/null 2>&1 || true
    fi
fi
POSTINST
cat > "$stage/root/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
if [ "$1" = purge ]; then
    rm -rf /etc/livestreamd
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
POSTRM
chmod 0755 "$stage/root/DEBIAN/postinst" "$stage/root/DEBIAN/postrm"
out=${OUT:-.}
dpkg-deb --root-owner-group --build "$stage/root" "$out/livestreamd_${version}_${arch}.deb" >/dev/null
echo "$out/livestreamd_${version}_${arch}.deb"
