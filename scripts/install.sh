#!/bin/sh
# `make install`: the release binary (Swift standard library linked in: no toolchain needed on
# the host; it writes nginx's snippets itself: livestreamd nginx-config), the archiver, systemd
# units, the user and group (sysusers.d), a sample configuration and internal token file (never
# overwritten) and the documentation.
#   PREFIX=/usr/local DESTDIR= NGINX_USER=www-data NGINX_GROUP=$NGINX_USER SYSCONFDIR=/etc
#   HOST_FILES=no: no configuration or token file (a package makes them on each host: scripts/deb.sh)
set -eu
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
NGINX_USER=${NGINX_USER:-www-data}
NGINX_GROUP=${NGINX_GROUP:-$NGINX_USER}
SYSCONFDIR=${SYSCONFDIR:-/etc}
BINDIR=$PREFIX/bin
LIBDIR=$PREFIX/lib/livestreamd
DOCDIR=$PREFIX/share/doc/livestreamd
UNITDIR=$PREFIX/lib/systemd/system
SYSUSERSDIR=$PREFIX/lib/sysusers.d

swift build -c release --static-swift-stdlib --product livestreamd
bin="$(swift build -c release --static-swift-stdlib --show-bin-path)/livestreamd"

render() {
    sed -e "s|@BINDIR@|$BINDIR|g" -e "s|@LIBDIR@|$LIBDIR|g" -e "s|@DOCDIR@|$DOCDIR|g" \
        -e "s|@NGINX_USER@|$NGINX_USER|g" -e "s|@NGINX_GROUP@|$NGINX_GROUP|g" -e "s|@SYSCONFDIR@|$SYSCONFDIR|g" "$1"
}
secret() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

install -D -m 0755 "$bin" "$DESTDIR$BINDIR/livestreamd"
install -D -m 0755 nginx/archiver.sh "$DESTDIR$LIBDIR/archiver.sh"
mkdir -p "$DESTDIR$UNITDIR" "$DESTDIR$SYSUSERSDIR" "$DESTDIR$DOCDIR/docs"
render packaging/livestreamd.service.in > "$DESTDIR$UNITDIR/livestreamd.service"
render packaging/livestreamd.socket.in > "$DESTDIR$UNITDIR/livestreamd.socket"
render packaging/livestreamd.sysusers.in > "$DESTDIR$SYSUSERSDIR/livestreamd.conf"
chmod 0644 "$DESTDIR$UNITDIR/livestreamd.service" "$DESTDIR$UNITDIR/livestreamd.socket" "$DESTDIR$SYSUSERSDIR/livestreamd.conf"
install -m 0644 README.md "$DESTDIR$DOCDIR/README.md"
install -m 0644 docs/*.md "$DESTDIR$DOCDIR/docs/"
install -D -m 0644 packaging/livestreamd.logrotate "$DESTDIR$DOCDIR/examples/logrotate"
install -D -m 0644 packaging/livestreamd.1 "$DESTDIR$PREFIX/share/man/man1/livestreamd.1"
# The sample configuration, paths filled in, tokens left to make per host (the package's postinst does).
mkdir -p "$DESTDIR$PREFIX/share/livestreamd"
render packaging/livestreamd.json.in | sed -e "s|@SYSCONFDIR@|$SYSCONFDIR|g" > "$DESTDIR$PREFIX/share/livestreamd/livestreamd.json.in"
chmod 0644 "$DESTDIR$PREFIX/share/livestreamd/livestreamd.json.in"
# The operator's console: static files nginx serves (nginx-config finds them here).
rm -rf "$DESTDIR$PREFIX/share/livestreamd/console"
mkdir -p "$DESTDIR$PREFIX/share/livestreamd/console/js"
install -m 0644 console/index.html console/console.css "$DESTDIR$PREFIX/share/livestreamd/console/"
install -m 0644 console/js/*.js "$DESTDIR$PREFIX/share/livestreamd/console/js/"
[ "${HOST_FILES:-yes}" = no ] && exit 0

# Installing on this host as root: the user and group now (what the package's postinst does), so
# that the configuration and token file below can be handed to the group.
if [ -z "$DESTDIR" ] && [ "$(id -u)" = 0 ] && command -v systemd-sysusers >/dev/null; then
    systemd-sysusers "$SYSUSERSDIR/livestreamd.conf"
fi

etc="$DESTDIR$SYSCONFDIR/livestreamd"
mkdir -p "$etc"
# The API token and the nginx <-> livestreamd secret are made here, once: never a shared default.
# The internal token lives in a file nginx's archiver (group livestreamd) can read.
for made in internal.token livestreamd.json; do
    if [ -e "$etc/$made" ]; then echo "kept $etc/$made"; continue; fi
    case $made in
        internal.token) (umask 027 && secret > "$etc/$made") ;;
        livestreamd.json) (umask 027 && render packaging/livestreamd.json.in | sed -e "s|@API_TOKEN@|$(secret)|" -e "s|@SYSCONFDIR@|$SYSCONFDIR|g" > "$etc/$made") ;;
    esac
    if [ -z "$DESTDIR" ] && getent group livestreamd >/dev/null; then chgrp livestreamd "$etc/$made"; fi
    echo "wrote $etc/$made"
done

if [ -z "$DESTDIR" ]; then
    cat <<NEXT
installed livestreamd $("$BINDIR/livestreamd" --version | cut -d' ' -f2) under $PREFIX. Next, as root:
  systemd-sysusers                      # (done if you ran this as root) user and group livestreamd; $NGINX_USER joins it
  systemctl daemon-reload
  systemctl enable --now livestreamd.socket livestreamd.service
  livestreamd nginx-config --config $SYSCONFDIR/livestreamd/livestreamd.json --out /etc/nginx/livestreamd
                                        # then include the three snippets (README: Behind your own nginx)
  systemctl restart nginx               # $NGINX_USER's new group applies to new workers
NEXT
fi
