#!/bin/sh
# After the files are removed (dpkg: remove or purge; rpm: 0 on erase, 1 on
# upgrade). A purge removes the DSN files postinstall made; the data in
# /var/lib/guestbook and the guestbook user are kept, so that a reinstall
# finds them. Nothing is stopped or started here.
set -e
root="${DPKG_ROOT:-}"

if [ "$1" = purge ]; then
	rm -f "$root/etc/guestbook/database.primary" "$root/etc/guestbook/database.replicas" \
		"$root/etc/guestbook/migrate.primary"
	rmdir "$root/etc/guestbook" 2>/dev/null || true
fi
if [ -z "$root" ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
