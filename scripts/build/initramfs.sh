#!/bin/bash
# Build the test host's initramfs for one test list: our /init, the list as
# /etc/tests.list and every file the list names under /kvm (KVM selftests),
# /kvm-upstream (the upstream 7.x tree's own KVM selftests, built into
# UPSTREAM_SELFTESTS by 'make upstream-selftests'), /kvm-core (the core
# part's own build of ours, in CORE_SELFTESTS: scripts/build/core-selftests.sh),
# /vmm (reference VMM
# and its guest) or /bench (tools/bench, staged by scripts/check/bench.sh).
set -euo pipefail

tree=${1:?usage: initramfs.sh TREE SELFTESTS STAGE LIST OUT}
selftests=$2
stage=$3
list=$4
out=$5
# a work directory of its own: test hosts are packed side by side
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cc=riscv64-linux-gnu-gcc
$cc -static -O2 -Wall -Wextra -Werror -o "$work/init" "$(dirname "$0")/../../tools/host-init/init.c"

gen=$tree/usr/gen_init_cpio
if [ ! -x "$gen" ]; then
	gen=$work/gen_init_cpio
	gcc -O2 -o "$gen" "$tree/usr/gen_init_cpio.c"
fi

spec=$work/$(basename "$list").spec
{
	echo "dir /dev 0755 0 0"
	echo "nod /dev/console 0600 0 0 c 5 1"
	for d in /proc /sys /tmp /etc /kvm /kvm/riscv /kvm-upstream /kvm-upstream/riscv /kvm-core /kvm-core/riscv /vmm /bench; do
		echo "dir $d 0755 0 0"
	done
	echo "file /init $work/init 0755 0 0"
	echo "file /etc/tests.list $(realpath "$list") 0644 0 0"
	grep -v '^#' "$list" | tr '\t' '\n' | grep -E '^/(kvm|kvm-upstream|kvm-core|vmm|bench)/' | sort -u |
	while read -r path; do
		case "$path" in
		/kvm/*) src=$selftests/${path#/kvm/} ;;
		/kvm-upstream/*) src=${UPSTREAM_SELFTESTS:?$path needs UPSTREAM_SELFTESTS}/${path#/kvm-upstream/} ;;
		/kvm-core/*) src=${CORE_SELFTESTS:?$path needs CORE_SELFTESTS}/${path#/kvm-core/} ;;
		/vmm/*) src=$stage/vmm/${path#/vmm/} ;;
		/bench/*) src=$stage/bench/${path#/bench/} ;;
		esac
		if [ ! -f "$src" ]; then
			echo "initramfs: $path: $src not built" >&2
			exit 1
		fi
		echo "file $path $src 0755 0 0"
	done
} > "$spec"

"$gen" "$spec" > "$out"
echo "initramfs: $out ($(du -h "$out" | cut -f1), $(grep -c '^file' "$spec") files)"
