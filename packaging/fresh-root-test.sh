#!/usr/bin/env bash
# Run the README's `make test` in a fresh Debian 12 root, as on a new machine.
#
#   sudo packaging/fresh-root-test.sh [ROOT_DIR]     (default /tmp/card-explorer-fresh-root)
#
# Proves that the Makefile installs every system package the suite and the app
# need: a debootstrap minbase root has nothing (no GTK, no X, no Python), the
# committed HEAD is cloned into it, and only `make` and `git` are added by hand
# (what a user needs to clone and type the command). It runs in a private mount
# namespace (/proc, /dev, /dev/pts, /dev/shm, /sys, a tmpfs /tmp), sharing this
# machine's network: no other pcscd or vpcd reader may be using ports
# 35963-35966 meanwhile. Takes 10 to 20 minutes (pip downloads PySide6, pyscard
# compiles). The Debian mirror is the one this machine's apt uses. Exit status:
# make test's. The root is left for inspection; delete it afterwards.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
root="${1:-/tmp/card-explorer-fresh-root}"
mirror="$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)"
[ -n "$mirror" ] || mirror="$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list)"
[ -n "$mirror" ] || { echo "no Debian mirror in /etc/apt" >&2; exit 2; }

if [ ! -x "$root/bin/sh" ]; then
    debootstrap --variant=minbase bookworm "$root" "$mirror"
fi
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# This machine's network settings for pip (a proxy's CA, an index), passed
# through as they are: they belong to the network, not to the project.
pip_env=()
for var in PIP_CERT PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_DEFAULT_TIMEOUT HTTPS_PROXY HTTP_PROXY NO_PROXY; do
    [ -n "${!var:-}" ] && pip_env+=("$var=${!var}")
done
if [ -n "${PIP_CERT:-}" ]; then
    mkdir -p "$root$(dirname "$PIP_CERT")" && cp "$PIP_CERT" "$root$PIP_CERT.pip"
    pip_env=("${pip_env[@]/#PIP_CERT=*/PIP_CERT=$PIP_CERT.pip}")
fi
rm -rf "$root/src"
git clone -q "$repo" "$root/src"

start=$(date +%s)
unshare --mount --propagation private bash -c '
    set -e
    r="$1"
    mount -t proc proc "$r/proc"
    mount -t sysfs sys "$r/sys"
    mount --bind /dev "$r/dev"
    mount -t devpts devpts "$r/dev/pts" -o newinstance,ptmxmode=0666 || true
    mount -t tmpfs tmpfs "$r/dev/shm"
    mount -t tmpfs tmpfs "$r/tmp"
    shift
    exec chroot "$r" /usr/bin/env -i HOME=/root LANG=C.UTF-8 "$@" \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /bin/bash -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq make git >/dev/null && cd /src && make test"
' bash "$root" "${pip_env[@]}" && rc=0 || rc=$?
echo "fresh-root make test: exit $rc after $(( $(date +%s) - start )) s (root: $root)"
exit "$rc"
