#!/bin/bash
# The series' part boundaries as kernels of their own, each booted with the
# suspend tests built from the full series (sbi_system_suspend_test and the
# reference VMM's suspend and refusal tests):
#   base        no series: every suspend case skips
#   core        up to the core's last patch (upstream's behaviour): the core
#               cases pass; the refusal cases and the VMM's refusal test
#               fail; race.hart_start fails ("not reproduced" if it passes:
#               the race window is narrow)
#   core-race   core and the race fix with its test: as core, but
#               race.hart_start must pass
# The full series, which must pass everything, is the main run of
# 'make check'. A variant passes when every case does what it expects.
set -euo pipefail

tree=$(realpath "${1:?usage: negative-controls.sh TREE SELFTESTS BUILD}")
selftests=$(realpath "$2")
build=$(realpath "$3")
top=$(realpath "$(dirname "$0")/..")
neg=$build/neg

# Cases of the hardening part, by the kernel patch they need
refusal_cases="susp.refused_denied_then_accepted susp.refused_failed_then_accepted vmm-suspend-denied"
race_cases="race.hart_start"

if [ ! -d "$neg" ]; then
	git -C "$tree" worktree prune
	git -C "$tree" worktree add -q --detach "$neg" base
fi

commit_of() {
	git -C "$tree" log --format=%H --grep="$1" base..HEAD | head -n 1
}
racefix=$(commit_of '^RISC-V: KVM: Close the race')
refusal=$(commit_of '^RISC-V: KVM: Let userspace refuse')
[ -n "$racefix" ] && [ -n "$refusal" ] ||
	{ echo "negative-controls: hardening patches not found in $tree" >&2; exit 1; }

list=$build/neg.list
{
	grep -P '^sbi_system_suspend_test\t' "$top/tools/tests/full.list"
	grep -P '^vmm-suspend-(1-cycle|denied)\t' "$top/tools/tests/full.list"
} > "$list"

# Print "case result" for every case and VMM test of a log
results() {
	tr -d '\r' < "$1" | sed -n \
		-e 's/^# ok [0-9]* \([a-z0-9_]*\.[a-z0-9_]*\)\( # SKIP.*\)\{0,1\}$/\1 ok\2/p' \
		-e 's/^# not ok [0-9]* \([a-z0-9_]*\.[a-z0-9_]*\).*/\1 fail/p' \
		-e 's/^ok [0-9]* \(vmm-[a-z0-9-]*\)\( # SKIP.*\)\{0,1\}$/\1 ok\2/p' \
		-e 's/^not ok [0-9]* \(vmm-[a-z0-9-]*\).*/\1 fail/p' |
		sed 's/ ok # SKIP.*/ skip/'
}

status=0
for variant in base core core-race; do
	case $variant in
	base) commit=base; expect_fail= ;;
	core) commit=$racefix^; expect_fail="$refusal_cases $race_cases" ;;
	core-race) commit=$refusal^; expect_fail=$refusal_cases ;;
	esac
	git -C "$neg" checkout -q --detach "$commit"
	"$top/scripts/kconfig.sh" "$neg" "$top/arch/riscv/configs/kvm_susp_host.config"
	"$top/scripts/kmake.sh" "$neg" -s Image
	"$top/scripts/initramfs.sh" "$tree" "$selftests" "$build/stage" "$list" \
		"$build/neg-$variant.cpio" > /dev/null
	"$top/scripts/run-qemu.sh" "$neg/arch/riscv/boot/Image" "$build/neg-$variant.cpio" \
		"$build/neg-$variant.log" > /dev/null
	log=$build/neg-$variant.log

	echo "negative control '$variant' ($(git -C "$neg" log -1 --format='%h %s' "$commit")):"
	verdict=ok
	n=0
	while read -r name result; do
		n=$((n + 1))
		if [ "$variant" = base ]; then
			want=skip
		elif [[ " $expect_fail " == *" $name "* ]]; then
			want=fail
		else
			want=ok
		fi
		mark=
		if [ "$want" = fail ] && [ "$result" = ok ] && [[ " $race_cases " == *" $name "* ]]; then
			mark="  <- not reproduced"
		elif [ "$want" != "$result" ]; then
			mark="  <- expected $want"
			verdict=FAIL
		fi
		printf '    %-44s %s%s\n' "$name" "$result" "$mark"
	done < <(results "$log")
	if [ $n -eq 0 ]; then
		echo "    no results in $log"
		verdict=FAIL
	fi
	grep -h 'suspend exits\|not stopped (mp_state' "$log" | sed 's/^#* */    /' | head -n 3 || true
	echo "  => $verdict"
	[ "$verdict" = FAIL ] && status=1
done
git -C "$neg" checkout -q --detach base
exit $status
