#!/bin/bash
# make bench: what an SBI system suspend costs, on four test host kernels
# booted in turn on the test host without AIA:
#   core      the series up to its core's last patch (upstream's
#             behaviour), a worktree of TREE (build/bench-core)
#   full      the whole series: TREE's own Image
#   upstream  Debian's newest upstream 7.x kernel, whose KVM has had SUSP
#             since 6.14: UPSTREAM_IMAGE, by default BUILD's
#             ('make upstream-kernel', scripts/build/upstream-kernel.sh); the
#             yardstick for the core, which backports its SUSP to 6.12
#   trace     the whole series with the function graph tracer
#             (build/bench-trace, arch/riscv/configs/kvm_susp_trace.config)
# core, full and upstream run tools/tests/bench-kvm.list
# (tools/bench/sbi_susp_bench, built from our tree: userspace, which runs
# on the upstream kernel as on ours; suspend against its floors, by vCPU
# count), each in two boots; full's first boot also runs
# tools/tests/bench-linux.list (a Linux guest under the reference VMM);
# trace runs tools/tests/bench-trace.list (a profile of the resume path).
# scripts/check/bench-report.py turns the logs into a table (printed), CSV files
# and a plot, in OUT (build/bench).
set -euo pipefail

usage="usage: bench.sh TREE SELFTESTS BUILD PATCHDIR [UPSTREAM_IMAGE]"
tree=$(realpath "${1:?$usage}")
selftests=$(realpath "${2:?$usage}")
build=$(realpath "${3:?$usage}")
patches=$(realpath "${4:?$usage}")
upstream_image=$(realpath -m "${5:-$build/upstream/arch/riscv/boot/Image}")
top=$(realpath "$(dirname "$0")/../..")
out=$build/bench
lock="flock ${BUILD_LOCK:?the build lock: run it with make bench}"
host_fragment=$top/arch/riscv/configs/kvm_susp_host.config
start=$(date +%s)
mkdir -p "$out"

step() {
	printf 'bench: [%4d s] %s\n' $(( $(date +%s) - start )) "$*"
}

# before the kernel builds, so that a missing one fails at once
[ -f "$upstream_image" ] ||
	{ echo "bench: no upstream kernel $upstream_image (make upstream-kernel)" >&2; exit 1; }

step "building tools/bench/sbi_susp_bench"
make -s -C "$top/tools/bench" TREE="$tree" SELFTESTS="$selftests" \
	HDR="$build/headers" OUT="$build/stage/bench"

nr_core=$("$top/scripts/tree/series-core.sh" "$patches")
core_commit=$(git -C "$tree" rev-list --reverse base..HEAD | sed -n "${nr_core}p")
[ -n "$core_commit" ] || { echo "bench: no core commit in $tree" >&2; exit 1; }
step "core-only kernel"
$lock "$top/scripts/build/worktree-kernel.sh" "$tree" "$build/bench-core" \
	"$core_commit" "$host_fragment"
step "kernel with the function graph tracer"
$lock "$top/scripts/build/worktree-kernel.sh" "$tree" "$build/bench-trace" HEAD \
	"$host_fragment" "$top/arch/riscv/configs/kvm_susp_trace.config"

# boot KERNEL's Image with the concatenated LISTs, log in OUT/KERNEL.log
boot() {
	local kernel=$1 image=$2 list=$out/$1.list
	shift 2
	cat "$@" > "$list"
	step "$kernel kernel: $(grep -cv '^#' "$list") runs"
	TREE=$tree SELFTESTS=$selftests \
		"$top/scripts/run/boot.sh" "$image" "$list" "$out/$kernel.log" > /dev/null
	sed -n 's/^run-qemu: \(.*qemu-system\)/\1/p' "$out/$kernel.log" > "$out/$kernel.qemu"
	"$top/scripts/run/tap-summary.sh" "$out/$kernel.log" | tail -n 1 | sed "s/^/bench: $kernel: /"
}

# Each kernel boots twice, in turn, so that the report can tell how far
# one kernel's ratios move from boot to boot, and so that a change of
# QEMU's pace during the run falls on all three kernels alike; the Linux
# guest runs once.
core_image=$build/bench-core/arch/riscv/boot/Image
full_image=$tree/arch/riscv/boot/Image
boot core "$core_image" "$top/tools/tests/bench-kvm.list"
boot full "$full_image" "$top/tools/tests/bench-kvm.list" \
	"$top/tools/tests/bench-linux.list"
boot upstream "$upstream_image" "$top/tools/tests/bench-kvm.list"
boot core-2 "$core_image" "$top/tools/tests/bench-kvm.list"
boot full-2 "$full_image" "$top/tools/tests/bench-kvm.list"
boot upstream-2 "$upstream_image" "$top/tools/tests/bench-kvm.list"
boot trace "$build/bench-trace/arch/riscv/boot/Image" "$top/tools/tests/bench-trace.list"

step "report"
"$top/scripts/check/bench-report.py" --out "$out" \
	--core "$out/core.log" "$out/core-2.log" \
	--full "$out/full.log" "$out/full-2.log" \
	--upstream "$out/upstream.log" "$out/upstream-2.log" --trace "$out/trace.log" \
	--machine "$(sed 's| -kernel .*||' "$out/full.qemu")"
step "done"
