#!/bin/sh
# On Debian, python3-pyro4 also ships /usr/bin/pyro4-ns and /usr/bin/pyro4-nsc.
# Divert its copies aside (to *.python3-pyro4) so both packages can be
# installed: the Python library stays usable, the commands run this binary.
set -e
if [ -n "$DPKG_MAINTSCRIPT_PACKAGE" ] && command -v dpkg-divert >/dev/null 2>&1; then
	case "$1" in
	install | upgrade)
		for tool in pyro4-ns pyro4-nsc; do
			dpkg-divert --package "$DPKG_MAINTSCRIPT_PACKAGE" --add --rename \
				--divert "/usr/bin/$tool.python3-pyro4" "/usr/bin/$tool" >/dev/null
		done
		;;
	esac
fi
exit 0
