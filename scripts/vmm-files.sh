#!/bin/bash
# Build the reference VMM, the L2 guest's /init and initramfs, and stage
# them for the host initramfs:  OUTDIR/vmm/{vmm,wake-button,Image,guest.cpio,tests.list}
# The caller copies OUTDIR/vmm to /vmm in the host initramfs.
#
# The VMM is compiled against the uapi headers of build/linux (the patched
# tree), installed into build/hdr-vmm when they are missing or stale.
# It takes the build lock itself; a caller that already holds it must set
# KVM_SUSP_LOCK_HELD=1 (flock on a fresh open of the file would deadlock).
set -euo pipefail

out=${1:?usage: vmm-files.sh OUTDIR}
top=$(cd "$(dirname "$0")/.." && pwd)
linux=$top/build/linux
hdr=$top/build/hdr-vmm
build=$top/build/vmm
lock=(flock /tmp/kvm-susp-build.lock)
[ "${KVM_SUSP_LOCK_HELD:-}" = 1 ] && lock=()
image=$linux/arch/riscv/boot/Image

[ -f "$image" ] || { echo "vmm-files: $image not built yet" >&2; exit 1; }

if [ ! -f "$hdr/include/linux/kvm.h" ] ||
   [ "$linux/arch/riscv/include/uapi/asm/kvm.h" -nt "$hdr/include/asm/kvm.h" ] ||
   [ "$linux/include/uapi/linux/kvm.h" -nt "$hdr/include/linux/kvm.h" ]; then
	# shares the tree with kernel builds: take the build lock
	"${lock[@]}" make -s -C "$linux" ARCH=riscv \
		INSTALL_HDR_PATH="$hdr" headers_install
fi

"${lock[@]}" make -s -C "$top/tools/vmm" O="$build" HDR="$hdr/include"
"${lock[@]}" make -s -C "$top/tools/guest-init" O="$build" KSRC="$linux"

mkdir -p "$out/vmm"
cp "$build/vmm" "$build/wake-button" "$build/guest.cpio" "$top/tools/vmm/tests.list" "$out/vmm/"
cp "$image" "$out/vmm/Image"
echo "vmm-files: staged $(ls "$out/vmm" | tr '\n' ' ')in $out/vmm"
