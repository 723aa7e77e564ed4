#!/bin/bash
# Boot the test host: riscv64 virt machine with the hypervisor extension,
# our kernel and initramfs; the serial console goes to LOG and stdout.
# The first lines, in LOG too, name the command line and the QEMU version.
#
# The emulator is QEMU 10.0 with OpenSBI 1.5.1 from bookworm-backports,
# extracted into build/qemu10 by scripts/setup/qemu10.sh ('make deps' runs it):
# Debian 13's QEMU, where Debian 12's 7.2 has AIA only as experimental
# options, ignores hvien and stormed a guest with an external interrupt
# nothing asserted (Documentation/testing.md, "QEMU"). QEMU=DIR boots
# another extraction; QEMU=system the system's QEMU 7.2, with the command
# line the project used with it, to compare. An extracted QEMU takes its
# firmware and data from DIR (-L, -bios), its modules too
# (QEMU_MODULE_DIR: 7.2's abort it, "Only modules from the same build can
# be loaded"), and -audio none keeps it from probing audio drivers, which
# loads modules.
set -uo pipefail

image=${1:?usage: run-qemu.sh IMAGE INITRAMFS LOG}
initrd=$2
log=$3
limit=${QEMU_TIMEOUT:-2400}

# sscofpmf lets sbi_pmu_test run instead of skipping as a whole.
machine=virt
cpu=rv64,h=true,sscofpmf=true
console=ttyS0
qemu=qemu-system-riscv64
qemu_opts=(-bios default)
aia_cpu=x-ssaia=true,x-smaia=true
QEMU=${QEMU:-$(dirname "$0")/../../build/qemu10}
if [ "$QEMU" != system ]; then
	dir=$(cd "$QEMU" 2>/dev/null && pwd) && [ -x "$dir/usr/bin/$qemu" ] ||
		{ echo "run-qemu: no $QEMU/usr/bin/$qemu (scripts/setup/qemu10.sh $QEMU)" >&2; exit 1; }
	qemu=$dir/usr/bin/$qemu
	qemu_opts=(-audio none -L "$dir/usr/share/qemu"
		  -bios "$dir/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin")
	QEMU_MODULE_DIR=$(echo "$dir"/usr/lib/*-linux-gnu/qemu)
	export QEMU_MODULE_DIR
	aia_cpu=ssaia=true,smaia=true
fi
# QEMU_AIA=1: a host with AIA (IMSICs with 2 guest interrupt files per
# hart, and an APLIC), so that KVM offers guests its in-kernel AIA. QEMU
# 7.2 has AIA only as experimental options; QEMU 10 only without the x-.
# The console is SBI's: in this machine the 8250's wired interrupt goes
# through the APLIC and was lost ("irq 11: nobody cared"), which made
# every run minutes slower.
# QEMU_RVA23=1: the CPU of QEMU 10's RVA23 profile (rva23s64: H, V,
# Sscofpmf, Sstc, Smstateen, ...; Sv39 only), what the first H-capable
# servers implement, instead of rv64 with H and Sscofpmf.
if [ "${QEMU_RVA23:-0}" = 1 ]; then
	[ "$QEMU" = system ] && { echo "run-qemu: QEMU 7.2 has no rva23s64" >&2; exit 1; }
	cpu=rva23s64
fi
if [ "${QEMU_AIA:-0}" = 1 ]; then
	machine=virt,aia=aplic-imsic,aia-guests=2
	cpu=$cpu,$aia_cpu
	console=hvc0
fi
cmd=("$qemu" -M "$machine" -cpu "$cpu" -smp 2 -m 2G
     -nographic -no-reboot "${qemu_opts[@]}" -kernel "$image" -initrd "$initrd"
     -append "console=$console earlycon=sbi")
{
	echo "run-qemu: ${cmd[*]}"
	echo "run-qemu: $("$qemu" --version | head -n 1)$([ "$QEMU" != system ] && echo " from $dir")"
} | tee "$log"
start=$(date +%s.%N)
timeout --foreground -k 10 "$limit" "${cmd[@]}" < /dev/null 2>&1 | tee -a "$log"
rc=${PIPESTATUS[0]}
end=$(date +%s.%N)
printf 'run-qemu: QEMU exited with %s after %.1f s\n' "$rc" "$(echo "$end - $start" | bc)" | tee -a "$log"
[ "$rc" -eq 124 ] && echo "run-qemu: timed out after $limit s" | tee -a "$log"
exit 0
