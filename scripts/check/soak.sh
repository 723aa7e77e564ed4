#!/bin/bash
# make soak: the reference VMM's long suspend runs made ten and five times
# longer (tools/tests/soak.list: 10,000 cycles with 2 vCPUs, 1,000 with 4)
# and run on each test host, aia then plain, while a second test host QEMU
# loads the machine, all on the test hosts' QEMU (scripts/run/run-qemu.sh:
# QEMU 10.0; QEMU=system soaks on the system's 7.2, whose AIA hangs,
# Documentation/testing.md). Not part of 'make check': 25 min per host
# (3.6 h at its timeouts).
#
# Why: the failures the long runs look for (a suspend KVM denies because a
# CPU had not stopped yet, a CPU that does not come back, a hung guest)
# are rare and come with load: before the hotplug fix (now patch 15) made a guest wait for its
# dying hart, a denial came once in 50-370 cycles on a loaded machine and
# not in 1200 on an idle one (Documentation/testing.md, "Long runs"). The
# soak gives them ten and five times the cycles, and always the load.
#
# The load is a test host of its own (plain, build/soak/load.cpio, log
# build/soak/load-HOST.log) whose /init runs a 2-vCPU guest under the
# reference VMM that suspends endlessly (cycles=1000000, 1 ms timer wake;
# the VMM logs every 100th suspend, which the report counts):
# the same KVM paths as the soak (SBI SUSP exits, HSM hotplug of the guest's
# CPUs, timer wakes) in a second QEMU, both its harts busy, as when two
# engineers' runs share the machine, the load the denials were seen under.
# The load runs the same kernel, VMM and guest as the soak, so a load
# guest that fails, or a load that ends early, fails the soak too. The
# load starts before each host's soak run and is killed, its whole process
# group, when the run ends or this script exits.
#
# At the end a report, one line per host and run: cycles done, denials
# (the guest's FAIL on EPERM from echo mem), lost CPUs ("failed to start",
# "cpus online X, expected Y"), the slowest echo mem and its cycle, the
# wall time; then scripts/run/tap-summary.sh of each host's log. It is also
# written to build/soak/report.txt. Exit status 1 if any run or the load
# failed.
#
# Environment:
#   SOAK_SCALE=N  divide cycles=, report_every=, --expect-suspends and
#                 --log-every by N, and the timeouts too (but not below
#                 300 s): SOAK_SCALE=100 is a smoke run of 100 and 10
#                 cycles (default 1: the whole soak)
#   SOAK_HOSTS    the test hosts to soak, in order (default "aia plain")
#   SOAK_LIST     another list instead of tools/tests/soak.list
#   SOAK_LOAD=0   no load QEMU
#   SOAK_OUT=DIR  logs, lists and report in DIR instead of build/soak, so
#                 that two soaks can run side by side: SOAK_HOSTS=aia and
#                 SOAK_HOSTS=plain at once, with SOAK_LOAD=0, load the
#                 machine with each other
#
# Logs (build/soak/): soak-HOST.log, load-HOST.log (the load during HOST's
# run), soak.list and load.list as booted, report.txt.
set -euo pipefail

usage="usage: soak.sh TREE SELFTESTS BUILD"
tree=$(realpath "${1:?$usage}")
selftests=$(realpath "${2:?$usage}")
build=$(realpath "${3:?$usage}")
top=$(realpath "$(dirname "$0")/../..")
out=${SOAK_OUT:-$build/soak}
image=$tree/arch/riscv/boot/Image
list_src=${SOAK_LIST:-$top/tools/tests/soak.list}
scale=${SOAK_SCALE:-1}
hosts=${SOAK_HOSTS:-aia plain}
with_load=${SOAK_LOAD:-1}
report=$out/report.txt
start=$(date +%s)

[[ $scale =~ ^[1-9][0-9]*$ ]] || { echo "soak: SOAK_SCALE must be a positive integer" >&2; exit 2; }
[ -f "$image" ] || { echo "soak: $image not built" >&2; exit 1; }
mkdir -p "$out"

step() {
	printf 'soak: [%5d s] %s\n' $(( $(date +%s) - start )) "$*"
}

# The list as booted: cycle counts, reports and timeouts divided by scale
awk -v scale="$scale" '
function sc(n) {
	if (n == 0 || scale == 1)
		return n
	n = int(n / scale)
	return n < 1 ? 1 : n
}
BEGIN { FS = OFS = "\t" }
/^#/ || NF < 3 { print; next }
scale > 1 {
	t = int($2 / scale)
	$2 = t >= 300 ? t : $2 < 300 ? $2 : 300
	for (i = 4; i <= NF; i++) {
		if ($(i - 1) == "--expect-suspends" || $(i - 1) == "--log-every")
			$i = sc($i)
		if ($(i - 1) != "--append")
			continue
		n = split($i, w, " ")
		s = ""
		for (j = 1; j <= n; j++) {
			if (w[j] ~ /^(cycles|report_every)=[0-9]+$/) {
				split(w[j], kv, "=")
				w[j] = kv[1] "=" sc(kv[2])
			}
			s = s (j > 1 ? " " : "") w[j]
		}
		$i = s
	}
}
{ print }' "$list_src" > "$out/soak.list"
names=$(awk -F'\t' '!/^#/ && NF >= 3 { printf "%s ", $1 }' "$out/soak.list")
names=${names% }
[ -n "$names" ] || { echo "soak: no run in $list_src" >&2; exit 1; }
# the test host's limit: every run at its timeout, plus boot
soak_limit=$(awk -F'\t' '!/^#/ && NF >= 3 { t += $2 } END { print t + 300 }' "$out/soak.list")
load_limit=$((soak_limit + 600))

# The load: a guest suspending endlessly, until the soak run ends
load_args="/vmm/vmm	--kernel	/vmm/Image	--initrd	/vmm/guest.cpio	--smp	2	--append	console=hvc0 earlycon=sbi quiet cycles=1000000 report_every=1000 pattern_mib=4 hotplug_max_ms=0	--wake-after	1	--log-every	100	--watchdog	60"
{
	echo "# soak load (scripts/check/soak.sh): written by soak.sh, killed when the soak run ends"
	printf 'load\t%d\t%s\n' "$load_limit" "$load_args"
} > "$out/load.list"

step "SOAK_SCALE=$scale, hosts: $hosts; runs: $names; QEMU limit ${soak_limit} s per host"
"$top/scripts/build/initramfs.sh" "$tree" "$selftests" "$build/stage" "$out/soak.list" "$out/soak.cpio"
if [ "$with_load" = 1 ]; then
	"$top/scripts/build/initramfs.sh" "$tree" "$selftests" "$build/stage" "$out/load.list" "$out/load.cpio"
fi

# Each QEMU runs in the background, so that a signal's trap runs at once
# and not after QEMU, and in a process group of its own (setsid), so that
# a stop gets QEMU and run-qemu.sh's timeout and tee with it.
load_pid='' soak_pid=''
# Stop the process group PID (WHAT for the messages), then reap it
stop_group() {
	local pid=$1 what=$2

	kill -TERM -- "-$pid" 2>/dev/null || true
	for _ in $(seq 20); do
		pgrep -g "$pid" > /dev/null || break
		sleep 0.5
	done
	if pgrep -g "$pid" > /dev/null; then
		kill -KILL -- "-$pid" 2>/dev/null || true
		sleep 1
	fi
	wait "$pid" 2>/dev/null || true
	if pgrep -g "$pid" > /dev/null; then
		echo "soak: $what process group $pid still has processes:" >&2
		pgrep -ag "$pid" >&2 || true
		return 1
	fi
	step "$what stopped (process group $pid)"
}
# PID runs (kill -0 would take an unreaped child for one)
alive() {
	local stat

	stat=$(ps -o stat= -p "$1") || return 1
	[[ $stat != Z* ]]
}
# shellcheck disable=SC2317 # called from the EXIT trap
stop_all() {
	local pid

	if [ -n "$soak_pid" ]; then
		pid=$soak_pid soak_pid=''
		stop_group "$pid" "soak run"
	fi
	if [ -n "$load_pid" ]; then
		pid=$load_pid load_pid=''
		stop_group "$pid" load
	fi
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Start the load for HOST's run and wait until its guest runs
start_load() {
	local host=$1 log=$out/load-$1.log t0

	rm -f "$log"
	t0=$(date +%s)
	QEMU_AIA=0 QEMU_TIMEOUT=$load_limit setsid "$top/scripts/run/run-qemu.sh" \
		"$image" "$out/load.cpio" "$log" < /dev/null > /dev/null 2>&1 &
	load_pid=$!
	for _ in $(seq 180); do
		if grep -q '^# guest: init started' "$log" 2>/dev/null; then
			step "load running: process group $load_pid, its guest started after $(( $(date +%s) - t0 )) s ($log)"
			return 0
		fi
		alive "$load_pid" || break
		sleep 1
	done
	echo "soak: the load did not start its guest (see $log)" >&2
	return 1
}

# One line per run of LOG: cycles, denials, lost CPUs, slowest cycle, time
run_report() {
	local host=$1 log=$2

	tr -d '\r' < "$log" | awk -v host="$host" -v names="$names" '
	function cpuset(list, set,   n, i, r, a, c) {
		delete set
		n = split(list, r, ",")
		for (i = 1; i <= n; i++) {
			if (split(r[i], a, "-") == 2) {
				for (c = a[1] + 0; c <= a[2] + 0; c++)
					set[c] = 1
			} else if (r[i] != "") {
				set[r[i] + 0] = 1
			}
		}
	}
	# the CPUs of WANT that HAVE lacks, into lost[run]
	function lose(have, want,   h, w, c) {
		cpuset(have, h)
		cpuset(want, w)
		for (c in w)
			if (!(c in h))
				lostcpu[run, c] = 1
	}
	function seconds(s) { sub(/ s.*/, "", s); return s + 0 }
	BEGIN { n = split(names, order, " ") }
	/^# selftests: kvm: / { run = substr($0, 19); seen[run] = 1; next }
	run == "" { next }
	/^# guest: init started/ && match($0, /[0-9]+ cycle\(s\)/) {
		total[run] = substr($0, RSTART, RLENGTH) + 0
	}
	/^# guest: PASS [0-9]+ cycles/ {
		split($0, f, " ")
		passed[run] = f[4] + 0
		if (match($0, /longest [0-9.]+ s \(cycle [0-9]+\)/)) {
			split(substr($0, RSTART, RLENGTH), l, /[ ()]+/)
			slow[run] = l[2]; slow_at[run] = l[5]
		}
		next
	}
	/^# guest: FAIL / {
		why[run] = substr($0, 3)
		if (match($0, /FAIL cycle [0-9]+\//))
			failed_at[run] = substr($0, RSTART + 11, RLENGTH - 12) + 0
		if ($0 ~ /Operation not permitted/)
			denials[run]++
		if (match($0, /cpus online [0-9,-]+, expected [0-9,-]+/)) {
			s = substr($0, RSTART, RLENGTH)
			sub(/cpus online /, "", s); split(s, c, ", expected ")
			lose(c[1], c[2])
		}
		if (match($0, /cpus online [0-9,-]+ before the suspend, present [0-9,-]+/)) {
			s = substr($0, RSTART, RLENGTH)
			sub(/cpus online /, "", s); split(s, c, " before the suspend, present ")
			lose(c[1], c[2])
		}
		next
	}
	/^# guest: kmsg: .*CPU[0-9]+: failed to start/ {
		match($0, /CPU[0-9]+: failed/)
		lostcpu[run, substr($0, RSTART + 3, RLENGTH - 10) + 0] = 1
		next
	}
	/^# guest: cycle [0-9]+\/[0-9]+: / {
		split(substr($0, 16), f, /[\/:]/)
		last[run] = f[1] + 0
		t = -1
		if (match($0, /longest [0-9.]+ s \(cycle [0-9]+\)/)) {
			split(substr($0, RSTART, RLENGTH), l, /[ ()]+/)
			t = l[2]; at = l[5]
		} else if ($0 ~ /suspend ok/ && match($0, /\([0-9.]+ s\)$/)) {
			t = substr($0, RSTART + 1) + 0; at = f[1] + 0
		}
		if (t > slow[run] + 0) { slow[run] = t; slow_at[run] = at }
		next
	}
	/^# vmm: (error: |.*expected [0-9]+ suspend|.*watchdog fired)/ {
		vmm[run] = vmm[run] "\n      " substr($0, 3)
		next
	}
	/^# [^ ]+: [0-9.]+ s$/ && $2 == run ":" { wall[run] = $3; next }
	/^(ok|not ok) [0-9]+ / {
		tap[run] = $0
		run = ""
		next
	}
	END {
		for (i = 1; i <= n; i++) {
			r = order[i]
			if (r == "")
				continue
			bad = 0
			if (!(r in seen)) {
				res = "FAIL"; note = "not started (test host hang, panic or timeout)"
				bad = 1
			} else if (!(r in tap)) {
				res = "FAIL"; note = "no result (test host hang, panic or timeout)"
				bad = 1
			} else if (tap[r] ~ /^ok/ && !(r in why)) {
				res = tap[r] ~ /# SKIP/ ? "SKIP" : "PASS"; note = ""
			} else {
				res = "FAIL"; note = tap[r]; sub(/^not ok [0-9]+ [^ ]+ ?(# )?/, "", note)
				bad = 1
			}
			if (r in passed)
				done = passed[r]
			else if (r in failed_at)
				done = failed_at[r] - 1
			else if (r in last)
				done = (bad ? ">=" : "") last[r]
			else
				done = 0
			lost = 0; cpus = ""
			for (cpu = 0; cpu < 64; cpu++)
				if ((r, cpu) in lostcpu) { lost++; cpus = cpus " cpu" cpu }
			printf "%-5s %-28s %-4s cycles %s/%s, denials %d, lost CPUs %d%s, slowest echo mem %s, wall %s\n",
				host, r, res, done, (r in total) ? total[r] : "?",
				denials[r], lost, lost ? " (" substr(cpus, 2) ")" : "",
				(r in slow) ? slow[r] " s (cycle " slow_at[r] ")" : "-",
				(r in wall) ? wall[r] " s" : "-"
			if (note != "")
				printf "      %s\n", note
			if (r in why)
				printf "      %s\n", why[r]
			if (r in vmm)
				printf "%s\n", substr(vmm[r], 2)
			if (bad)
				failed++
		}
		exit failed ? 1 : 0
	}'
}

# What the load did during HOST's run
load_report() {
	local host=$1 log=$out/load-$1.log state=$2

	tr -d '\r' < "$log" | awk -v host="$host" -v state="$state" '
	/^# selftests: kvm: load/ { started++; total += n; n = 0 }
	/^# vmm: .* suspend: #[0-9]+ / { match($0, /#[0-9]+/); n = substr($0, RSTART + 1, RLENGTH - 1) + 0 }
	/^not ok [0-9]+ load/ { ended++ }
	/^# guest: FAIL / { fails = fails "\n      " substr($0, 3) }
	END {
		printf "load during %s: %s; %d load guest(s) started, %d failed, at least %d suspends\n",
			host, state, started, ended, total + n
		if (fails != "")
			print substr(fails, 2)
		exit ended || fails != "" || state ~ /^ENDED/
	}'
}

declare -A host_wall load_state
for host in $hosts; do
	case $host in
	aia) aia=1 ;;
	plain) aia=0 ;;
	*) echo "soak: unknown host '$host' (aia or plain)" >&2; exit 2 ;;
	esac
	log=$out/soak-$host.log
	load_state[$host]="none (SOAK_LOAD=0)"
	if [ "$with_load" = 1 ]; then
		step "$host: starting the load"
		start_load "$host"
	fi
	step "$host: soak run, log $log"
	t0=$(date +%s)
	QEMU_AIA=$aia QEMU_TIMEOUT=$soak_limit setsid "$top/scripts/run/run-qemu.sh" \
		"$image" "$out/soak.cpio" "$log" < /dev/null &
	soak_pid=$!
	wait "$soak_pid" || true
	soak_pid=''
	host_wall[$host]=$(( $(date +%s) - t0 ))
	if [ -n "$load_pid" ]; then
		if alive "$load_pid"; then
			load_state[$host]="ran throughout"
		else
			load_state[$host]="ENDED EARLY (see $out/load-$host.log)"
		fi
		pid=$load_pid load_pid=''
		stop_group "$pid" load
	fi
done

rc=0
{
	echo "Soak report, $(date -u '+%Y-%m-%d %H:%M UTC'), SOAK_SCALE=$scale, $(basename "$list_src")"
	for host in $hosts; do
		run_report "$host" "$out/soak-$host.log" || rc=1
	done
	for host in $hosts; do
		version=$(sed -n 's/^run-qemu: QEMU emulator version \([^ ]*\).*/ on QEMU \1/p' \
			"$out/soak-$host.log" | head -n 1)
		echo "test host $host$version: ${host_wall[$host]} s, log $out/soak-$host.log"
		if [ "$with_load" = 1 ]; then
			load_report "$host" "${load_state[$host]}" || rc=1
		fi
	done
	for host in $hosts; do
		echo
		echo "tap-summary of the $host test host:"
		"$top/scripts/run/tap-summary.sh" "$out/soak-$host.log" \
			"$top/tools/tests/known-failures" "$host" || rc=1
	done
	echo
	if [ "$rc" = 0 ]; then
		echo "soak: PASS"
	else
		echo "soak: FAIL"
	fi
} > "$report"
cat "$report"
step "report in $report"
exit "$rc"
