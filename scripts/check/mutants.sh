#!/bin/bash
# Show that each case of the suspend selftests can fail: boot kernels
# with one deliberate defect each (a mutant of the whole series, or the
# series as it was before the refusal was reworked) and run the test
# built from the series on them. A mutant is "killed" when every case it
# targets fails; its other results are printed too. Not part of
# 'make check' (about a minute per kernel): 'make mutants' runs it.
#
# Only throwaway worktree commits carry the defects; nothing of them is
# kept.
set -euo pipefail

tree=$(realpath "${1:?usage: mutants.sh TREE SELFTESTS BUILD [NAME...]}")
selftests=$(realpath "$2")
build=$(realpath "$3")
shift 3
top=$(realpath "$(dirname "$0")/../..")
mut=$build/mut

# name | files | perl substitutions (each file must change) | cases it must
# make fail
mutants=(
"enabled-by-default|arch/riscv/kvm/vcpu_sbi_system.c|s/\.default_disabled = true,/.default_disabled = false,/|global.disabled_by_default"
"probe-hides-susp|arch/riscv/kvm/vcpu_sbi_base.c|s/(sbi_ext = kvm_vcpu_sbi_find_ext\(vcpu, cp->a0\);)/\$1\n\t\t\tif (cp->a0 == SBI_EXT_SUSP)\n\t\t\t\tsbi_ext = NULL;/|susp.probe"
"platform-types-accepted|arch/riscv/kvm/vcpu_sbi_system.c|s/if \(sleep_type != SBI_SUSP_SLEEP_TYPE_SUSPEND_TO_RAM\)/if (sleep_type != SBI_SUSP_SLEEP_TYPE_SUSPEND_TO_RAM \&\& sleep_type < 0x80000000)/|susp.invalid_sleep_types"
"sleep-type-64-bit|arch/riscv/kvm/vcpu_sbi_system.c|s/u32 sleep_type = lower_32_bits\(cp->a0\);/unsigned long sleep_type = cp->a0;/|susp.sleep_type_upper_bits susp.kvmtool_invalid_param"
"resume-addr-needs-4-bytes|arch/riscv/kvm/vcpu_sbi_system.c|s/gpa_to_gfn\(resume_addr\)/gpa_to_gfn(resume_addr + 3)/|susp.resume_addr_edges"
"hsm-suspended-counts-as-stopped|arch/riscv/kvm/vcpu_sbi_system.c|s/tmp != vcpu && !kvm_riscv_vcpu_stopped\(tmp\)/tmp != vcpu \&\& !kvm_riscv_vcpu_stopped(tmp) \&\& !tmp->stat.generic.blocking/|susp.denied_until_others_stop"
"no-fid-check|arch/riscv/kvm/vcpu_sbi_system.c|s/if \(cp->a6 != SBI_EXT_SUSP_SYSTEM_SUSPEND\) \{/if (0) {/|susp.unknown_fid"
"hartid-zero|arch/riscv/kvm/vcpu_sbi.c|s/reset_cntx->a0 = vcpu->vcpu_id;/reset_cntx->a0 = 0;/|susp.resume_state"
"resume-addr-set-once|arch/riscv/kvm/vcpu_sbi.c|s/reset_cntx->sepc = pc;/if (!reset_cntx->sepc)\n\t\treset_cntx->sepc = pc;/|susp.second_suspend sbi_system_suspend_fuzz"
"ecall-stepped-before-exit|arch/riscv/kvm/vcpu_sbi_system.c|s/(\tkvm_riscv_vcpu_sbi_request_resume\(vcpu, cp->a1, cp->a2\);)/\tcp->sepc += 4;\n\$1/|susp.pending_state susp.saved_at_exit"
"immediate-exit-drops-resume|arch/riscv/kvm/vcpu.c|s/(\tif \(!vcpu->wants_to_run\) \{\n)/\$1\t\tkvm_clear_request(KVM_REQ_VCPU_RESET, vcpu);\n/|hardening.immediate_exit_resumes hardening.saved_after_immediate_exit"
"refusal-drops-later-resets|arch/riscv/kvm/vcpu_sbi.c arch/riscv/kvm/vcpu.c|s/\tvcpu->arch.resume_refusable = refusable;/\tif (refusable)\n\t\tvcpu->arch.resume_refusable = true;/; s/\tspin_lock\(&vcpu->arch.reset_cntx_lock\);\n\tvcpu->arch.resume_refusable = false;\n\tspin_unlock\(&vcpu->arch.reset_cntx_lock\);\n\n//|susp.abandoned_denied_then_hart_start hardening.refusal_after_mp_state"
"others-check-skips-vcpu0|arch/riscv/kvm/vcpu_sbi_system.c|s/tmp != vcpu && !kvm_riscv_vcpu_stopped\(tmp\)/tmp != vcpu \&\& tmp->vcpu_idx \&\& !kvm_riscv_vcpu_stopped(tmp)/|sbi_system_suspend_fuzz"
"pending-suspend-pins-vm|arch/riscv/kvm/vcpu_sbi_system.c|s/(\tkvm_riscv_vcpu_sbi_forward\(vcpu, run\);)/\tkvm_get_kvm(vcpu->kvm);\n\$1/|sbi_susp_abandoned"
"reset-keeps-pmu|arch/riscv/kvm/vcpu.c|s/\tkvm_riscv_vcpu_pmu_reset\(vcpu\);\n\n//|susp.resume_resets_pmu"
"reset-keeps-steal-time|arch/riscv/kvm/vcpu.c|s/\tkvm_riscv_vcpu_sbi_sta_reset\(vcpu\);\n//|susp.resume_resets_registers"
"set-mp-state-drops-resume|arch/riscv/kvm/vcpu.c|s/(\tspin_lock\(&vcpu->arch.mp_state_lock\);\n\n\tswitch \(mp_state->mp_state\) \{)/\tkvm_clear_request(KVM_REQ_VCPU_RESET, vcpu);\n\$1/|susp.stopped_then_runnable"
)
# The series as it was before the refusal was reworked (this repository
# at old_rev): any answer but SBI_SUCCESS refused the suspend, and dropped
# whatever reset was pending.
old_rev=ae4ce7c
old_series_cases="susp.ret0_untouched susp.kvmtool_invalid_param susp.abandoned_then_hart_start susp.abandoned_denied_then_hart_start"

list=$build/mut.list
# The stress programs too, the abandoned VMs 200 at a time, not 1000, for time
{
	grep -P '^sbi_system_suspend_(test|fuzz|hardening_test)\t' "$top/tools/tests/full.list"
	grep -P '^sbi_susp_abandoned\t' "$top/tools/tests/abandoned.list" |
		sed 's/$/\t-n\t200/'
} > "$list"

run_kernel() {	# name cases
	local name=$1 cases=$2 log=$build/mut-$1.log killed=yes line
	"$top/scripts/build/worktree-kernel.sh" "$tree" "$mut" HEAD \
		"$top/arch/riscv/configs/kvm_susp_host.config" > "$build/mut-$name-kernel.log" ||
		{ cat "$build/mut-$name-kernel.log"; return 1; }
	TREE=$tree SELFTESTS=$selftests \
		"$top/scripts/run/boot.sh" "$mut/arch/riscv/boot/Image" "$list" "$log" > /dev/null
	echo "mutant '$name':"
	for c in $cases; do
		# a harness case ("# ok N fixture.case") or a program ("ok N name")
		line=$(tr -d '\r' < "$log" | grep -E "^(# )?(not )?ok [0-9]+ $c( |$)" | sed 's/^# //' || true)
		case $line in
		"not ok"*)
			echo "    $c: fails"
			# the assertion that failed, as the test printed it
			tr -d '\r' < "$log" | sed -n "/RUN *$c \.\.\./,/ok [0-9]* $c/p" |
				sed -n '/Test Assertion Failure/,/Test failed/p' |
				grep -vE 'Assertion Failure|Test failed|pid=|stack trace' |
				head -n 4 | sed 's/^[# ]*/        /' ;;
		*)	echo "    $c: ${line:-no result} <- survived"; killed=no ;;
		esac
	done
	echo "    other failing cases:" $(tr -d '\r' < "$log" |
		sed -n 's/^# not ok [0-9]* \([a-z0-9_.]*\).*/\1/p' |
		grep -vxF -f <(tr ' ' '\n' <<< "$cases") | tr '\n' ' ')
	echo "  => $([ $killed = yes ] && echo killed || echo SURVIVED)"
	[ $killed = yes ]
}

status=0
for m in "${mutants[@]}"; do
	IFS='|' read -r name files subst cases <<< "$m"
	[ $# -gt 0 ] && [[ " $* " != *" $name "* ]] && continue
	"$top/scripts/build/worktree.sh" "$tree" "$mut" HEAD
	git -C "$mut" reset -q --hard
	applied=yes
	for f in $files; do
		perl -0pi -e "$subst" "$mut/$f"
		git -C "$mut" diff --quiet -- "$f" && applied=no
	done
	if [ $applied = no ]; then
		echo "mutant '$name': substitution did not apply to all of $files" >&2
		status=1
		continue
	fi
	git -C "$mut" diff | grep '^[-+][^-+]' | sed 's/^/    /'
	run_kernel "$name" "$cases" || status=1
done
if [ $# -eq 0 ] || [[ " $* " == *" old-refusal "* ]]; then
	old=$build/mut-old-patches
	rm -rf "$old"
	mkdir -p "$old"
	for p in $(git -C "$top" show "$old_rev:patches/series" | grep -v '^#'); do
		git -C "$top" show "$old_rev:patches/$p" > "$old/$p"
	done
	git -C "$mut" reset -q --hard
	git -C "$mut" checkout -q --detach base
	git -C "$mut" am -q "$old"/0*.patch
	run_kernel old-refusal "$old_series_cases" || status=1
fi
git -C "$mut" checkout -q --detach "$(git -C "$tree" rev-parse HEAD)"
git -C "$mut" reset -q --hard
exit $status
