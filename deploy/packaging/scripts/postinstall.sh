#!/bin/sh
# After the files are unpacked: the state directory, the DSN files the app
# and migrate units load (LoadCredential=), and a systemd reload so that it
# sees the units. Nothing is started, enabled or restarted: the operator
# enables the tier's unit (docs/deploy.md), and restarts it after an upgrade.
set -e
root="${DPKG_ROOT:-}"

# Owned by guestbook, as StateDirectory= would make it, so that it is there
# for a migrate run by hand too. The SQLite default's file lives here.
uid=$(awk -F: '$1 == "guestbook" { print $3 }' "$root/etc/passwd")
gid=$(awk -F: '$1 == "guestbook" { print $3 }' "$root/etc/group")
install -d -m 0750 "$root/var/lib/guestbook"
chown "$uid:$gid" "$root/var/lib/guestbook"

# Root's alone, made once for the SQLite default and never touched again:
# write the MySQL DSNs in them (docs/deploy.md).
umask 077
for f in database.primary migrate.primary; do
	[ -e "$root/etc/guestbook/$f" ] || echo /var/lib/guestbook/guestbook.db >"$root/etc/guestbook/$f"
done
[ -e "$root/etc/guestbook/database.replicas" ] || : >"$root/etc/guestbook/database.replicas"

if [ -z "$root" ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
