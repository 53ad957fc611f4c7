#!/usr/bin/env bash
# Installs what the test suite needs on a Debian machine: the real Python
# Pyro4 4.82 (the interop peer) and msgpack for it; the real components other
# tests start (etcd-server for a 3-member cluster on loopback, chromium for the
# registry page, the openssl CLI for key fixtures); plus Go modules.
# Safe to run repeatedly; does nothing that is already done.
set -euo pipefail

need=()
[ -x /usr/bin/pyro4-ns ] || need+=(pyro4)
/usr/bin/python3 -c 'import Pyro4' 2>/dev/null || need+=(python3-pyro4)
/usr/bin/python3 -c 'import msgpack' 2>/dev/null || need+=(python3-msgpack)
[ -x /usr/bin/etcd ] || need+=(etcd-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/openssl ] || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "installing test prerequisites: ${need[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
go mod download
