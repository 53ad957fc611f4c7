#!/bin/sh
# Stop and disable the name server when the package is removed; not on
# upgrade (dpkg passes "upgrade", rpm a count of 1 or more).
set -e
case "$1" in
remove | 0)
	if [ -d /run/systemd/system ]; then
		systemctl stop pyro4-ns.service >/dev/null 2>&1 || true
	fi
	systemctl --no-reload disable pyro4-ns.service >/dev/null 2>&1 || true
	;;
esac
exit 0
