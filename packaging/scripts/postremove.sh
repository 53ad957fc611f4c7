#!/bin/sh
# Forget the unit and, on Debian, give python3-pyro4 its pyro4-ns and
# pyro4-nsc back (see preinstall.sh).
set -e
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
if [ -n "$DPKG_MAINTSCRIPT_PACKAGE" ] && command -v dpkg-divert >/dev/null 2>&1; then
	case "$1" in
	remove | abort-install | disappear)
		for tool in pyro4-ns pyro4-nsc; do
			dpkg-divert --package "$DPKG_MAINTSCRIPT_PACKAGE" --remove --rename \
				--divert "/usr/bin/$tool.python3-pyro4" "/usr/bin/$tool" >/dev/null
		done
		;;
	esac
fi
exit 0
