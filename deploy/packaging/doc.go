// Package packaging holds what make dist (scripts/dist) builds the .deb and
// .rpm from: nfpm's configuration, the maintainer scripts, the Debian
// copyright and lintian overrides, and envfile, which writes the packages'
// /etc/guestbook/guestbook.env from the configuration's keys. Its tests run
// make dist (or read the one make test ran, GBTEST_DIST) and check every
// artifact with the tools an operator would use: dpkg, rpm, lintian,
// sha256sum and systemd-analyze.
package packaging
