#!/bin/sh
# Before the files are unpacked: the guestbook system user and group that
# the units run as (User=guestbook). An existing one is kept. DPKG_ROOT is
# set when dpkg installs into another root without chrooting (the tests do).
set -e
root="${DPKG_ROOT:-}"

exists() { # exists passwd|group NAME
	if [ -n "$root" ]; then
		grep -q "^$2:" "$root/etc/$1" 2>/dev/null
	else
		getent "$1" "$2" >/dev/null
	fi
}

if ! exists group guestbook; then
	groupadd --system ${root:+--prefix "$root"} guestbook
fi
if ! exists passwd guestbook; then
	useradd --system --gid guestbook --home-dir /var/lib/guestbook --no-create-home \
		--shell /usr/sbin/nologin --comment guestbook ${root:+--prefix "$root"} guestbook
fi
