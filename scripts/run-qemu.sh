#!/bin/bash
# Boot the test host: riscv64 virt machine with the hypervisor extension,
# our kernel and initramfs; the serial console goes to LOG and stdout.
set -uo pipefail

image=${1:?usage: run-qemu.sh IMAGE INITRAMFS LOG}
initrd=$2
log=$3
limit=${QEMU_TIMEOUT:-2400}

# sscofpmf lets sbi_pmu_test run instead of skipping as a whole.
cmd=(qemu-system-riscv64 -M virt -cpu rv64,h=true,sscofpmf=true -smp 2 -m 2G
     -nographic -no-reboot -bios default -kernel "$image" -initrd "$initrd"
     -append "console=ttyS0 earlycon=sbi")
echo "run-qemu: ${cmd[*]}"
start=$(date +%s.%N)
timeout --foreground -k 10 "$limit" "${cmd[@]}" < /dev/null 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
end=$(date +%s.%N)
printf 'run-qemu: QEMU exited with %s after %.1f s\n' "$rc" "$(echo "$end - $start" | bc)" | tee -a "$log"
[ "$rc" -eq 124 ] && echo "run-qemu: timed out after $limit s" | tee -a "$log"
exit 0
