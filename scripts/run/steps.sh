#!/bin/bash
# Run the steps of a target JOBS at a time, each a shell command whose
# output goes to OUTDIR/NAME.log, and print each step's output whole, in
# the order given, followed by "step NAME: N s" (scripts/run/step.sh's
# line). Steps start in the order given. LAST, if named, is printed after
# all the others and without its line, so that its own last line (a test
# summary) stays the last line printed; it still starts in its place.
# Every step runs whatever the others do; the exit status is the first
# failed step's, 0 when none failed. OUTDIR is emptied first.
#   steps.sh JOBS OUTDIR LAST NAME COMMAND [NAME COMMAND]...
# A step that builds takes the build lock for each build (BUILD_LOCK), so
# that no two builds overlap, while a test host boots beside it.
set -uo pipefail

usage="usage: steps.sh JOBS OUTDIR LAST NAME COMMAND [NAME COMMAND]..."
jobs=${1:?$usage}
out=${2:?$usage}
last=${3?$usage}
shift 3
[ $# -ge 2 ] && [ $(($# % 2)) -eq 0 ] || { echo "$usage" >&2; exit 2; }
names=()
commands=()
while [ $# -gt 0 ]; do
	names+=("$1")
	commands+=("$2")
	shift 2
done
n=${#names[@]}
rm -rf "$out"
mkdir -p "$out"

# Each step writes "STATUS SECONDS" to NAME.status when it ends
start_step() {
	local name=$1 command=$2
	(
		start=$(date +%s)
		bash -c "$command" > "$out/$name.log" 2>&1 < /dev/null
		echo "$? $(( $(date +%s) - start ))" > "$out/$name.status.new"
		mv "$out/$name.status.new" "$out/$name.status"
	) &
}

running() {
	local i count=0
	for ((i = 0; i < started; i++)); do
		[ -f "$out/${names[i]}.status" ] || count=$((count + 1))
	done
	echo $count
}

status=0
report() {
	local name=$1 rc seconds
	read -r rc seconds < "$out/$name.status"
	cat "$out/$name.log"
	[ "$name" = "$last" ] ||
		echo "step $name: $seconds s$([ "$rc" -ne 0 ] && echo ", failed ($rc)")"
	[ "$rc" -ne 0 ] && [ $status -eq 0 ] && status=$rc
}

started=0
printed=0
order=()
for name in "${names[@]}"; do
	[ "$name" = "$last" ] || order+=("$name")
done
[ -n "$last" ] && order+=("$last")
while [ $printed -lt $n ]; do
	while [ $started -lt $n ] && [ "$(running)" -lt "$jobs" ]; do
		start_step "${names[started]}" "${commands[started]}"
		started=$((started + 1))
	done
	if [ -f "$out/${order[printed]}.status" ]; then
		report "${order[printed]}"
		printed=$((printed + 1))
		continue
	fi
	# until any step ends
	wait -n 2> /dev/null || sleep 1
done
wait
exit $status
