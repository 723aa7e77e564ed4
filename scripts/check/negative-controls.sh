#!/bin/bash
# The series' part boundaries as kernels of their own, each booted with the
# suspend tests built from the full series (the four sbi_system_suspend_*
# programs and the reference VMM's suspend, refusal and save-restore
# tests) and, where the list has it, the core part's own build of the ABI
# test (/kvm-core, scripts/build/core-selftests.sh: upstream's behaviour in
# every case, which the core kernels must show):
#   base        no series: every suspend case skips
#   upstream    Debian's newest upstream 7.x kernel ('make upstream-kernel')
#               as the host, on the test host with AIA: the hardening
#               cases (race, refusal, save and restore after an
#               immediate_exit KVM_RUN, the VMM's refusal and save-restore
#               tests) fail, as upstream has none of those changes; so do
#               the suspend tests of two guests without our guest fixes,
#               the base 6.12 kernel and the upstream kernel itself:
#               upstream's KVM resumes with scounteren 0, and their /init
#               dies of SIGILL at its first rdtime after a resume (the
#               VMM's watchdog ends the run). The core's cases and the
#               guests with the fixes pass there in 'make upstream'.
#   core        up to the core's last patch (upstream's behaviour): the core
#               cases and the core's own ABI test pass; the hardening cases
#               fail, the race ("not reproduced" if it passes: the race
#               window is narrow) among them
#   core-race   core and the race fix with its test: as core, but the race
#               must pass
#   no-save-restore-fix  the whole series without the immediate_exit reset
#               (patch "Perform a pending vCPU reset before an immediate
#               exit"): only its cases and the VMM's save-restore test fail
#   no-imsic-fix  the whole series without the guest's IMSIC fix, as host
#               and as the guest of the reference VMM, on the test host
#               with AIA: the guest with the in-kernel AIA must fail its
#               suspend test (its boot CPU takes no IPI after a resume)
#   late-hart-stop  the whole series with tools/tests/late-hart-stop.patch
#               (each dying CPU holds its HART_STOP call until HART_STATUS
#               has found it running twice, 1 s at most), as
#               host and as the VMM's guest, on the test host without AIA:
#               the guest's suspends must all go through
#   no-hart-stop-fix  the same without the guest's hotplug fix: the guest's
#               first suspend must be denied (a hart not yet stopped)
#   no-pmu-fix  the whole series without the fixes part's PMU bound check:
#               sbi_pmu_test's basic case must fail (a firmware counter
#               read before it is configured succeeds), the host memory
#               probe must pass
#   no-gstage-fix  the whole series without the fixes part's G-stage table
#               fix: the host memory probe must fail (the tables of each
#               of 1000 VMs kept), sbi_pmu_test must pass
#   no-smstateen-fix  the whole series without the fixes part's reset of
#               the Smstateen CSRs, on the test host with the RVA23
#               profile's CPU (Smstateen): the ABI test's
#               resume_resets_registers must fail (sstateen0 kept across
#               the resume), every other case pass
# The full series, which must pass everything, is the main run of
# 'make check'. VARIANTS="late-hart-stop no-hart-stop-fix" runs only those.
# A variant passes when every case does what it expects and
# its log has no kernel splat (scripts/run/splat-check.sh).
set -euo pipefail

tree=$(realpath "${1:?usage: negative-controls.sh TREE SELFTESTS BUILD}")
selftests=$(realpath "$2")
build=$(realpath "$3")
top=$(realpath "$(dirname "$0")/../..")
neg=$build/neg
# the core part's own build of our selftests, /kvm-core ('make core-selftests')
export CORE_SELFTESTS=$build/core-selftests

# Cases of the hardening part, by the kernel patch they need
refusal_cases="hardening.refused_denied_then_accepted hardening.refused_failed_then_accepted hardening.refused_then_immediate_exit vmm-suspend-denied"
race_cases="sbi_system_suspend_race"
saverestore_cases="hardening.immediate_exit_resumes hardening.saved_after_immediate_exit hardening.reset_after_immediate_exit vmm-suspend-save-restore"
# Tests of the fixes part, each failing without its own fix only
pmu_cases="sbi_pmu_test"
gstage_cases="sbi_susp_abandoned"
smstateen_cases="susp.resume_resets_registers"

commit_of() {
	git -C "$tree" log --format=%H --grep="$1" base..HEAD | head -n 1
}
racefix=$(commit_of '^RISC-V: KVM: Close the race')
refusal=$(commit_of '^RISC-V: KVM: Let userspace refuse')
saverestorefix=$(commit_of '^RISC-V: KVM: Perform a pending vCPU reset')
imsicfix=$(commit_of "^irqchip/riscv-imsic: Restore the IMSIC file")
hartstopfix=$(commit_of "^riscv: cpu_ops_sbi: Wait for a dying hart")
pmufix=$(commit_of "^RISC-V: KVM: Fix array out-of-bounds in pmu_ctr_read")
gstagefix=$(commit_of "^RISC-V: KVM: Free the G-stage page tables")
smstateenfix=$(commit_of "^KVM: RISC-V: reset smstateen CSRs")
[ -n "$racefix" ] && [ -n "$refusal" ] && [ -n "$saverestorefix" ] &&
	[ -n "$imsicfix" ] && [ -n "$hartstopfix" ] &&
	[ -n "$pmufix" ] && [ -n "$gstagefix" ] && [ -n "$smstateenfix" ] ||
	{ echo "negative-controls: patches not found in $tree" >&2; exit 1; }

vmm_tests='vmm-suspend-(1-cycle|denied|save-restore)'
list=$build/neg.list
{
	grep -P '^sbi_system_suspend_(test|fuzz|race|hardening_test)\t' "$top/tools/tests/full.list"
	grep -P "^$vmm_tests\t" "$top/tools/tests/full.list"
	# the core part's own ABI test: upstream's behaviour, which the
	# core kernels must show in every case
	grep -P '^sbi_system_suspend_test_core\t' "$top/tools/tests/upstream.list"
} > "$list"
aia_list=$build/neg-aia.list
grep -P '^vmm-suspend-1-cycle\t' "$top/tools/tests/full.list" > "$aia_list"
# The fixes part's tests: sbi_pmu_test without its overflow case, which
# needs Sscofpmf, which the test host without AIA lacks; the host memory
# probe with its 1000 VMs per batch
smstateen_list=$build/neg-smstateen.list
grep -P '^sbi_system_suspend_test\t' "$top/tools/tests/full.list" > "$smstateen_list"
fixes_list=$build/neg-fixes.list
{
	grep -P '^sbi_pmu_test\t' "$top/tools/tests/full.list" | sed 's/$/\t-d\toverflow/'
	grep -P '^sbi_susp_abandoned\t' "$top/tools/tests/abandoned.list"
} > "$fixes_list"
upstream_list=$build/neg-upstream.list
upstream_image=$build/upstream/arch/riscv/boot/Image
# A panicked guest goes silent: the watchdog fails its run in 30 s
watchdog=$'\t--watchdog\t30'
{
	# the entries of the hardening part, which upstream fails, and the
	# base 6.12 guest's suspend
	{
		"$top/scripts/run/upstream-list.sh" --hardening "$top/tools/tests/full.list"
		grep -P '^vmm-suspend-1-cycle\t' "$top/tools/tests/full.list"
	} | sed "/^vmm-/s/\$/$watchdog/"
	grep -P '^vmm-suspend-1-cycle\t' "$top/tools/tests/full.list" |
		sed "s/^vmm-suspend-1-cycle/vmm-suspend-upstream-guest/; s#/vmm/Image\t#/vmm/Image-upstream\t#; s/\$/$watchdog/"
} > "$upstream_list"

# Print "case result" for every case and VMM test of a log: the cases of
# the harness programs, and the programs without cases by their own result
programs='vmm-[a-z0-9-]*\|sbi_system_suspend_race\|sbi_system_suspend_fuzz[a-z0-9_]*\|sbi_pmu_test\|sbi_susp_abandoned'
results() {
	tr -d '\r' < "$1" | sed -n \
		-e 's/^# ok [0-9]* \([a-z0-9_]*\.[a-z0-9_]*\)\( # SKIP.*\)\{0,1\}$/\1 ok\2/p' \
		-e 's/^# not ok [0-9]* \([a-z0-9_]*\.[a-z0-9_]*\).*/\1 fail/p' \
		-e "s/^ok [0-9]* \\($programs\\)\\( # SKIP.*\\)\\{0,1\\}\$/\\1 ok\\2/p" \
		-e "s/^not ok [0-9]* \\($programs\\).*/\\1 fail/p" |
		sed 's/ ok # SKIP.*/ skip/'
}

status=0
for variant in ${VARIANTS:-base upstream core core-race no-save-restore-fix no-imsic-fix late-hart-stop no-hart-stop-fix no-pmu-fix no-gstage-fix no-smstateen-fix}; do
	stage=$build/stage
	vlist=$list
	aia=0
	rva23=0
	guest_too=1	# the reference VMM's guest runs the variant's kernel too
	host_image=$neg/arch/riscv/boot/Image
	case $variant in
	base) commit=base; expect_fail=; guest_too=0 ;;
	upstream) commit=base; aia=1; vlist=$upstream_list; host_image=$upstream_image
		expect_fail="$refusal_cases $race_cases $saverestore_cases vmm-suspend-1-cycle vmm-suspend-upstream-guest"
		[ -f "$upstream_image" ] ||
			{ echo "negative-controls: no $upstream_image (make upstream-kernel)" >&2; exit 1; } ;;
	core) commit=$racefix^; expect_fail="$refusal_cases $race_cases $saverestore_cases"
		guest_too=0 ;;
	core-race) commit=$refusal^; expect_fail="$refusal_cases $saverestore_cases"
		guest_too=0 ;;
	no-save-restore-fix) commit=HEAD; expect_fail=$saverestore_cases; guest_too=0 ;;
	no-imsic-fix) commit=HEAD; expect_fail=vmm-suspend-1-cycle; aia=1
		vlist=$aia_list ;;
	late-hart-stop) commit=HEAD; expect_fail=
		vlist=$top/tools/tests/late-hart-stop.list ;;
	no-hart-stop-fix) commit=HEAD; expect_fail=vmm-suspend-late-hart-stop
		vlist=$top/tools/tests/late-hart-stop.list ;;
	no-pmu-fix) commit=HEAD; expect_fail=$pmu_cases; guest_too=0
		vlist=$fixes_list ;;
	no-gstage-fix) commit=HEAD; expect_fail=$gstage_cases; guest_too=0
		vlist=$fixes_list ;;
	no-smstateen-fix) commit=HEAD; expect_fail=$smstateen_cases; guest_too=0
		aia=1; rva23=1; vlist=$smstateen_list ;;
	esac
	"$top/scripts/build/worktree.sh" "$tree" "$neg" "$commit"
	case $variant in
	no-save-restore-fix) revert=$saverestorefix ;;
	no-imsic-fix) revert=$imsicfix ;;
	no-hart-stop-fix) revert=$hartstopfix ;;
	no-pmu-fix) revert=$pmufix ;;
	no-gstage-fix) revert=$gstagefix ;;
	no-smstateen-fix) revert=$smstateenfix ;;
	*) revert= ;;
	esac
	if [ -n "$revert" ]; then
		git -C "$neg" revert --no-edit "$revert" > /dev/null
		commit=$(git -C "$neg" rev-parse HEAD)
	fi
	case $variant in
	late-hart-stop|no-hart-stop-fix)
		git -C "$neg" apply "$top/tools/tests/late-hart-stop.patch" ;;
	esac
	flock "${BUILD_LOCK:?the build lock: run it with make negative}" \
		"$top/scripts/build/worktree-kernel.sh" "$tree" "$neg" "$commit" \
		"$top/arch/riscv/configs/kvm_susp_host.config" > "$build/neg-$variant-kernel.log" ||
		{ cat "$build/neg-$variant-kernel.log"; exit 1; }
	# the test kernel's change is not committed: drop it for the next one
	git -C "$neg" checkout -q -- .
	if [ $guest_too = 1 ]; then
		stage=$build/neg-stage
		rm -rf "$stage"
		cp -r "$build/stage" "$stage"
		cp "$neg/arch/riscv/boot/Image" "$stage/vmm/Image"
		[ "$variant" = upstream ] && cp "$upstream_image" "$stage/vmm/Image-upstream"
	fi
	TREE=$tree SELFTESTS=$selftests STAGE=$stage QEMU_AIA=$aia QEMU_RVA23=$rva23 \
		"$top/scripts/run/boot.sh" "$host_image" "$vlist" "$build/neg-$variant.log" > /dev/null
	log=$build/neg-$variant.log

	what=$(git -C "$neg" log -1 --format='%h %s' "$commit")
	[ "$variant" = upstream ] &&
		what="host $(git -C "$build/upstream" log -1 --format=%s base), guest $what"
	echo "negative control '$variant' ($what$([ $rva23 = 1 ] && echo ', test host with the RVA23 CPU' || { [ $aia = 1 ] && echo ', test host with AIA'; })$(case $variant in *hart-stop*) echo ', + late-hart-stop.patch' ;; esac)):"
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
	grep -ah 'suspend exits\|not stopped (mp_state\|guest: FAIL\|guest: PASS\|unhandled signal\|page table pages kept\|of unconfigured counter' "$log" |
		sed 's/^#* */    /' | head -n 3 || true
	# a kernel splat fails the variant whatever its cases did; the
	# guests of "upstream" are meant to panic
	host_only=0
	[ "$variant" = upstream ] && host_only=1
	if ! splats=$(SPLAT_HOST_ONLY=$host_only "$top/scripts/run/splat-check.sh" "$log"); then
		echo "$splats"
		verdict=FAIL
	fi
	echo "  => $verdict"
	[ "$verdict" = FAIL ] && status=1
done
exit $status
