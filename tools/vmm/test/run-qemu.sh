#!/bin/bash
# Try tools/vmm without the project harness: stage the VMM files, wrap them
# in a host initramfs whose /init (test/host-init.c) runs a test list, and
# boot that host under QEMU with the H extension.
#   tools/vmm/test/run-qemu.sh [LIST [TIMEOUT-SECONDS]]
# LIST defaults to tools/vmm/tests.list; HOST_IMAGE=... boots another L1
# kernel (e.g. one without the SUSP series, to see the VMM skip).
set -euo pipefail

top=$(cd "$(dirname "$0")/../../.." && pwd)
work=$top/build/vmm-test
list=$(realpath "${1:-$top/tools/vmm/tests.list}")
tmo=${2:-1800}
host_image=${HOST_IMAGE:-$top/build/linux/arch/riscv/boot/Image}

"$top/scripts/vmm-files.sh" "$work"
for prog in host-init wake-button; do
	riscv64-linux-gnu-gcc -static -O2 -Wall -Wextra -o "$work/$prog" \
		"$top/tools/vmm/test/$prog.c"
done
cp "$list" "$work/vmm/tests.list"

{
	echo "dir /dev 0755 0 0"
	echo "nod /dev/console 0600 0 0 c 5 1"
	echo "dir /proc 0755 0 0"
	echo "dir /sys 0755 0 0"
	echo "dir /vmm 0755 0 0"
	echo "file /init $work/host-init 0755 0 0"
	echo "file /vmm/wake-button $work/wake-button 0755 0 0"
	for f in "$work"/vmm/*; do
		echo "file /vmm/$(basename "$f") $f 0755 0 0"
	done
} > "$work/host.list"
"$top/build/vmm/gen_init_cpio" "$work/host.list" > "$work/host.cpio"

exec timeout "$tmo" qemu-system-riscv64 -M virt -cpu rv64,h=true,sstc=true \
	-smp 2 -m 2G -nographic -no-reboot -bios default \
	-kernel "$host_image" -initrd "$work/host.cpio" \
	-append "console=ttyS0 earlycon=sbi"
