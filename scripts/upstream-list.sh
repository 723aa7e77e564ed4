#!/bin/bash
# The upstream test host's list, on stdout: FULL (tools/tests/full.list)
# with every entry UPSTREAM (tools/tests/upstream.list) names replaced by
# UPSTREAM's, the stock tests taken from the 7.x tree's own build
# (/kvm-upstream instead of /kvm; ours, sbi_system_suspend_*, stay), and
# without the entries of the hardening part, which upstream lacks and
# which the negative control "upstream" runs instead.
set -euo pipefail

full=${1:?usage: upstream-list.sh FULL UPSTREAM}
upstream=${2:?usage: upstream-list.sh FULL UPSTREAM}
hardening='sbi_system_suspend_race sbi_system_suspend_hardening_test vmm-suspend-denied vmm-suspend-save-restore'

awk -F'\t' -v hardening=" $hardening " '
	NR == FNR { if ($0 !~ /^#/ && NF) own[$1] = 1; next }
	/^#/ || !NF { print; next }
	($1 in own) || index(hardening, " " $1 " ") { next }
	$1 !~ /^sbi_system_suspend/ { gsub(/\t\/kvm\//, "\t/kvm-upstream/") }
	{ print }' "$upstream" "$full"
cat "$upstream"
