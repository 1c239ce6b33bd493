#!/bin/sh
# `make install`: the release binary (Swift standard library linked in: no toolchain needed on
# the host), the archiver, nginx snippet templates, systemd units, the user and group (sysusers.d),
# a sample configuration (never overwritten) and the documentation.
#   PREFIX=/usr/local DESTDIR= NGINX_USER=www-data NGINX_GROUP=$NGINX_USER SYSCONFDIR=/etc
set -eu
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
NGINX_USER=${NGINX_USER:-www-data}
NGINX_GROUP=${NGINX_GROUP:-$NGINX_USER}
SYSCONFDIR=${SYSCONFDIR:-/etc}
BINDIR=$PREFIX/bin
LIBDIR=$PREFIX/lib/livestreamd
SHAREDIR=$PREFIX/share/livestreamd
DOCDIR=$PREFIX/share/doc/livestreamd
UNITDIR=$PREFIX/lib/systemd/system
SYSUSERSDIR=$PREFIX/lib/sysusers.d

swift build -c release --static-swift-stdlib --product livestreamd
bin="$(swift build -c release --static-swift-stdlib --show-bin-path)/livestreamd"

render() {
    sed -e "s|@BINDIR@|$BINDIR|g" -e "s|@LIBDIR@|$LIBDIR|g" -e "s|@DOCDIR@|$DOCDIR|g" \
        -e "s|@NGINX_USER@|$NGINX_USER|g" -e "s|@NGINX_GROUP@|$NGINX_GROUP|g" "$1"
}
secret() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

install -D -m 0755 "$bin" "$DESTDIR$BINDIR/livestreamd"
install -D -m 0755 nginx/archiver.sh "$DESTDIR$LIBDIR/archiver.sh"
for part in rtmp http locations; do
    install -D -m 0644 "nginx/snippets/livestreamd-$part.conf.in" "$DESTDIR$SHAREDIR/nginx/livestreamd-$part.conf.in"
done
mkdir -p "$DESTDIR$UNITDIR" "$DESTDIR$SYSUSERSDIR" "$DESTDIR$DOCDIR/docs"
render packaging/livestreamd.service.in > "$DESTDIR$UNITDIR/livestreamd.service"
render packaging/livestreamd.socket.in > "$DESTDIR$UNITDIR/livestreamd.socket"
render packaging/livestreamd.sysusers.in > "$DESTDIR$SYSUSERSDIR/livestreamd.conf"
chmod 0644 "$DESTDIR$UNITDIR/livestreamd.service" "$DESTDIR$UNITDIR/livestreamd.socket" "$DESTDIR$SYSUSERSDIR/livestreamd.conf"
install -m 0644 README.md "$DESTDIR$DOCDIR/README.md"
install -m 0644 docs/*.md "$DESTDIR$DOCDIR/docs/"

config="$DESTDIR$SYSCONFDIR/livestreamd/livestreamd.json"
if [ ! -e "$config" ]; then
    mkdir -p "$(dirname "$config")"
    # The API token and the nginx <-> livestreamd secret are made here, once: never a shared default.
    (umask 027 && render packaging/livestreamd.json.in | sed -e "s|@API_TOKEN@|$(secret)|" -e "s|@INTERNAL_TOKEN@|$(secret)|" > "$config")
    if [ -z "$DESTDIR" ] && getent group livestreamd >/dev/null; then chgrp livestreamd "$config"; fi
    echo "wrote $config (API token and internal token made for this host)"
else
    echo "kept $config"
fi

if [ -z "$DESTDIR" ]; then
    cat <<NEXT
installed livestreamd $("$BINDIR/livestreamd" --version | cut -d' ' -f2) under $PREFIX. Next, as root:
  systemd-sysusers                      # user and group livestreamd; $NGINX_USER joins the group
  systemctl daemon-reload
  systemctl enable --now livestreamd.socket livestreamd.service
  systemctl restart nginx               # $NGINX_USER's new group applies to new workers
NEXT
fi
