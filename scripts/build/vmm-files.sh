#!/bin/bash
# Build the reference VMM, its wake button, the L2 guest's /init and
# initramfs, and stage them for the host initramfs:
#   OUTDIR/vmm/{vmm,wake-button,Image,guest.cpio}
# The caller copies OUTDIR/vmm to /vmm in the host initramfs.
#
# HDR is the patched tree's installed uapi headers (the 'selftests' target
# installs them), so that KVM_RISCV_SBI_EXT_SUSP comes from the series.
set -euo pipefail

out=${1:?usage: vmm-files.sh OUTDIR HDR}
hdr=$(realpath "${2:?usage: vmm-files.sh OUTDIR HDR}")
top=$(cd "$(dirname "$0")/../.." && pwd)
linux=$top/build/linux
build=$top/build/vmm
image=$linux/arch/riscv/boot/Image

[ -f "$image" ] || { echo "vmm-files: $image not built yet" >&2; exit 1; }
[ -f "$hdr/include/asm/kvm.h" ] || { echo "vmm-files: no headers in $hdr" >&2; exit 1; }

make -s -C "$top/tools/vmm" O="$build" HDR="$hdr/include"
make -s -C "$top/tools/guest-init" O="$build" KSRC="$linux"

"$top/scripts/build/stage-files.sh" "$out/vmm" "$build/vmm" "$build/wake-button" \
	"$build/guest.cpio" "$image"
echo "vmm-files: staged $(ls "$out/vmm" | tr '\n' ' ')in $out/vmm"
