#!/bin/bash
# Turn the TAP the test host printed into a summary. Each test program
# counts with its own subtests (the nested "# ok"/"# not ok" lines) when
# it has some, else as one result; a program that failed without a failed
# subtest counts one more failure. A log without the end marker of /init
# (hang, panic, timeout) or with fewer results than planned is a failure.
# Every kernel splat in the log (scripts/run/splat-check.sh: WARNING, BUG,
# KASAN, UBSAN, lockdep, Oops, panic, kmemleak leaks; the L2 guest's too)
# is counted as one failure; each distinct one is printed in the summary.
set -euo pipefail

log=${1:?usage: tap-summary.sh LOG [KNOWN_FAILURES CONFIG]}
# Known failures: tab-separated "config, program, reason" lines of a file;
# a program listed for this configuration that fails is reported as a
# known failure with its reason, counted apart, never as a pass.
known=${2:-/dev/null}
config=${3:-}

splatfile=$(mktemp)
trap 'rm -f "$splatfile"' EXIT
"$(dirname "$0")/splat-check.sh" "$log" > "$splatfile" || true

tr -d '\r' < "$log" | awk -v config="$config" -v knownfile="$known" \
	-v splatfile="$splatfile" '
BEGIN {
	while ((getline kline < knownfile) > 0) {
		if (kline ~ /^#/ || kline == "")
			continue
		split(kline, kf, "\t")
		if (kf[1] == config)
			known_why[kf[2]] = kf[3]
	}
}
function flush() {
	if (prog == "")
		return
	p = sub_pass; f = sub_fail; s = sub_skip
	if (result == "fail" && prog in known_why) {
		printf "  %-34s known failure, not counted: %s\n", prog, known_why[prog]
		known_failed++
		prog = ""
		return
	}
	if (result != "fail" && prog in known_why)
		note = note " (listed as a known failure, but did not fail)"
	if (p + f + s == 0) {
		if (result == "pass") p = 1
		else if (result == "skip") s = 1
		else f = 1
	} else if (result == "fail" && f == 0) {
		f = 1
	}
	printf "  %-34s %-4s %3d passed %3d failed %3d skipped%s\n", prog,
		result, p, f, s, note
	passed += p; failed += f; skipped += s
	prog = ""
}
/^# selftests: kvm: / { name = substr($0, 19); sub_pass = sub_fail = sub_skip = 0; skip_why = ""; next }
/^# 1\.\.0 # SKIP/ { skip_why = $0; sub(/^# 1\.\.0 # SKIP[ -]*/, "", skip_why); next }
/^# (ok|not ok) [0-9]+/ {
	line = substr($0, 3)
	if (line ~ /# [Ss][Kk][Ii][Pp]/) sub_skip++
	else if (line ~ /^ok/) sub_pass++
	else sub_fail++
	next
}
/^(ok|not ok) [0-9]+ / {
	prog = name; note = ""
	# a result of /init itself (no test ran: "cannot read the test list")
	if (prog == "") {
		prog = $0
		sub(/^(not )?ok [0-9]+ /, "", prog)
		sub(/ # .*/, "", prog)
	}
	if ($0 ~ /# SKIP/) result = "skip"
	else if ($0 ~ /^ok/) result = "pass"
	else result = "fail"
	if ($0 ~ / # /) { note = $0; sub(/.* # /, " (", note); note = note ")" }
	if (result == "skip" && skip_why != "") note = " (SKIP: " skip_why ")"
	results++
	flush()
	next
}
/^1\.\.[0-9]+$/ && !plan { plan = substr($0, 4) + 0 }
/^# init: done/ { done = 1 }
END {
	print "Summary (test programs and their cases):"
	if (!done) { print "  test host did not finish: hang, panic or timeout"; failed++ }
	if (results < plan) {
		printf "  %d of %d planned programs reported\n", results, plan
		failed += plan - results
	}
	if (plan == 0) { print "  no test ran"; failed++ }
	while ((getline sline < splatfile) > 0) {
		if (sline ~ /^splat-check: [0-9]+ splat/) {
			split(sline, sp, " ")
			printf "Kernel splats: %d, each counts as a failure\n", sp[2]
			failed += sp[2]
			continue
		}
		splat_text = splat_text sline "\n"
	}
	printf "%s", splat_text
	if (known_failed)
		printf "%d passed, %d failed, %d skipped, %d known failure(s)\n",
			passed, failed, skipped, known_failed
	else
		printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped
	exit failed ? 1 : 0
}'
