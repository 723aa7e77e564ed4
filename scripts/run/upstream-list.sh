#!/bin/bash
# The upstream test host's list, on stdout: FULL (tools/tests/full.list)
# with every entry UPSTREAM (tools/tests/upstream.list) names replaced by
# UPSTREAM's, the stock tests taken from the 7.x tree's own build
# (/kvm-upstream instead of /kvm; ours, sbi_system_suspend_*, stay), and
# without the entries of the hardening part, which upstream lacks and
# which the negative control "upstream" runs instead.
# upstream-list.sh --hardening FULL prints those entries of FULL instead,
# for the negative control (scripts/check/negative-controls.sh).
set -euo pipefail

usage="usage: upstream-list.sh FULL UPSTREAM | upstream-list.sh --hardening FULL"
hardening='sbi_system_suspend_race sbi_system_suspend_hardening_test vmm-suspend-denied vmm-suspend-save-restore'

if [ "${1:-}" = --hardening ]; then
	full=${2:?$usage}
	for name in $hardening; do
		grep -P "^$name\t" "$full"
	done
	exit 0
fi
full=${1:?$usage}
upstream=${2:?$usage}

awk -F'\t' -v hardening=" $hardening " '
	NR == FNR { if ($0 !~ /^#/ && NF) own[$1] = 1; next }
	/^#/ || !NF { print; next }
	($1 in own) || index(hardening, " " $1 " ") { next }
	$1 !~ /^sbi_system_suspend/ { gsub(/\t\/kvm\//, "\t/kvm-upstream/") }
	{ print }' "$upstream" "$full"
cat "$upstream"
