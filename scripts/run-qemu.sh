#!/bin/bash
# Boot the test host: riscv64 virt machine with the hypervisor extension,
# our kernel and initramfs; the serial console goes to LOG and stdout.
set -uo pipefail

image=${1:?usage: run-qemu.sh IMAGE INITRAMFS LOG}
initrd=$2
log=$3
limit=${QEMU_TIMEOUT:-2400}

# sscofpmf lets sbi_pmu_test run instead of skipping as a whole.
machine=virt
cpu=rv64,h=true,sscofpmf=true
console=ttyS0
# QEMU_AIA=1: a host with AIA (IMSICs with 2 guest interrupt files per
# hart, and an APLIC), so that KVM offers guests its in-kernel AIA. QEMU
# 7.2 has AIA only as experimental options. The console is SBI's: in this
# machine the 8250's wired interrupt goes through the APLIC and was lost
# ("irq 11: nobody cared"), which made every run minutes slower.
if [ "${QEMU_AIA:-0}" = 1 ]; then
	machine=virt,aia=aplic-imsic,aia-guests=2
	cpu=$cpu,x-ssaia=true,x-smaia=true
	console=hvc0
fi
cmd=(qemu-system-riscv64 -M "$machine" -cpu "$cpu" -smp 2 -m 2G
     -nographic -no-reboot -bios default -kernel "$image" -initrd "$initrd"
     -append "console=$console earlycon=sbi")
echo "run-qemu: ${cmd[*]}"
start=$(date +%s.%N)
timeout --foreground -k 10 "$limit" "${cmd[@]}" < /dev/null 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
end=$(date +%s.%N)
printf 'run-qemu: QEMU exited with %s after %.1f s\n' "$rc" "$(echo "$end - $start" | bc)" | tee -a "$log"
[ "$rc" -eq 124 ] && echo "run-qemu: timed out after $limit s" | tee -a "$log"
exit 0
