#!/bin/bash
# Show that the new selftest can fail: boot kernels built without parts of
# the series and run sbi_system_suspend_test (built from the full series)
# on each. A variant passes when the test does what is expected of it:
#   base          no series at all: the test must skip, not pass
#   no-refusal    without "Let userspace refuse...": host_refuses must fail
#   no-race-fix   without "Close the race...": race_with_hart_start should
#                 fail; the race window is narrow, so a pass is reported as
#                 "not reproduced" rather than as an error
set -euo pipefail

tree=$(realpath "${1:?usage: negative-controls.sh TREE SELFTESTS BUILD}")
selftests=$(realpath "$2")
build=$(realpath "$3")
top=$(realpath "$(dirname "$0")/..")
neg=$build/neg

if [ ! -d "$neg" ]; then
	git -C "$tree" worktree prune
	git -C "$tree" worktree add -q --detach "$neg" base
fi

commit_of() {
	git -C "$tree" log --format=%H --grep="$1" base..HEAD | head -n 1
}
refusal=$(commit_of '^RISC-V: KVM: Let userspace refuse')
racefix=$(commit_of '^RISC-V: KVM: Close the race')
kernel_commits=$(git -C "$tree" rev-list --reverse base..HEAD -- arch/riscv/kvm arch/riscv/include)

list=$build/neg.list
printf 'sbi_system_suspend_test\t600\t/kvm/riscv/sbi_system_suspend_test\n' > "$list"

status=0
for variant in base no-refusal no-race-fix; do
	git -C "$neg" checkout -q --detach base
	case $variant in
	base) drop=all ;;
	no-refusal) drop=$refusal ;;
	no-race-fix) drop=$racefix ;;
	esac
	if [ "$drop" != all ]; then
		for c in $kernel_commits; do
			[ "$c" = "$drop" ] && continue
			git -C "$neg" cherry-pick "$c" > /dev/null
		done
	fi
	"$top/scripts/kconfig.sh" "$neg" "$top/arch/riscv/configs/kvm_susp_host.config"
	"$top/scripts/kmake.sh" "$neg" -s Image
	"$top/scripts/initramfs.sh" "$tree" "$selftests" "$build/stage" "$list" \
		"$build/neg-$variant.cpio" > /dev/null
	"$top/scripts/run-qemu.sh" "$neg/arch/riscv/boot/Image" "$build/neg-$variant.cpio" \
		"$build/neg-$variant.log" > /dev/null
	log=$build/neg-$variant.log
	echo "negative control '$variant':"
	grep -E '^# (ok|not ok) |^# 1\.\.0 # SKIP|^(ok|not ok) ' "$log" | sed 's/^/    /'
	case $variant in
	base)
		grep -q '^ok 1 sbi_system_suspend_test # SKIP' "$log" && verdict=ok ||
			verdict=FAIL ;;
	no-refusal)
		grep -q '^# not ok [0-9]* host_refuses' "$log" && verdict=ok ||
			verdict=FAIL ;;
	no-race-fix)
		if grep -q '^# not ok [0-9]* race_with_hart_start' "$log"; then
			verdict=ok
		else
			verdict="not reproduced"
		fi ;;
	esac
	echo "  => $verdict"
	[ "$verdict" = FAIL ] && status=1
done
git -C "$neg" checkout -q --detach base
exit $status
