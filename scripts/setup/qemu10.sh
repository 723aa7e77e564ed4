#!/bin/bash
# Fetch QEMU 10.0 and OpenSBI 1.5.1 from Debian's bookworm-backports and
# extract them into DIR (default build/qemu10), next to the system's QEMU
# 7.2 and without installing anything (scripts/setup/debian-fetch.sh). The test
# hosts boot on it (scripts/run/run-qemu.sh). Nothing to do when DIR has the
# binary.
#
# qemu-system-riscv holds qemu-system-riscv64 (qemu-system-misc only
# depends on it); qemu-system-common its modules, qemu-system-data its data
# and opensbi the firmware that -bios default finds under -L. run-qemu.sh
# passes -audio none to it: without, QEMU 10 probes the audio drivers and
# loads modules (audio, spice, opengl) that live in qemu-system-gui and
# qemu-system-modules-*, and whichever is missing here it would take from
# QEMU 7.2's directory and abort ("Only modules from the same build can be
# loaded").
set -euo pipefail

dir=${1:-build/qemu10}
suite=bookworm-backports
pkgs=(qemu-system-riscv qemu-system-common qemu-system-data opensbi)
bin=usr/bin/qemu-system-riscv64

[ -x "$dir/$bin" ] && exit 0
if [ -e "$dir" ] && ! rmdir "$dir" 2>/dev/null; then
	echo "qemu10: $dir exists without $bin; remove it first" >&2
	exit 1
fi

new=$dir.new
rm -rf "$new"
"$(dirname "$0")/debian-fetch.sh" "$new" "$suite" "${pkgs[@]}"
rm -rf "$new/debs"

# Built for Debian 12: the binary must run with the system's libraries.
missing=$(ldd "$new/$bin" | awk '/not found/ { print $1 }')
if [ -n "$missing" ]; then
	echo "qemu10: $bin lacks libraries: $missing" >&2
	exit 1
fi
"$new/$bin" --version | head -n 1
mv "$new" "$dir"
echo "qemu10: $(cd "$dir" && pwd)/$bin"
