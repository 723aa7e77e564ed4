#!/bin/bash
# Kernel splats in a test host's serial log: print each one's first lines
# and exit 1 if there is any. A splat is a kernel log line (the printk
# time stamp "[    1.234567] " right before it, so that a test's own
# output such as "WARNING: ..." does not count) that starts with
#   WARNING:        WARN_ON() and lockdep's "WARNING: possible ...",
#                   "WARNING: inconsistent lock state", "WARNING: suspicious
#                   RCU usage", ...
#   BUG:            "BUG: KASAN: ...", "BUG: sleeping function called from
#                   invalid context", "BUG: spinlock ...", ...
#   UBSAN:          UBSAN reports
#   kernel BUG at, Kernel BUG, Oops, Unable to handle kernel, Kernel panic
#   kmemleak:       its pool running empty or kmemleak disabling itself
# anywhere in the line: the test host's kernel at the start of a line or
# after a partial line of /init's output, the reference VMM's L2 guest
# kernel after the "# " prefix /init gives a test's output. Lines of the
# reference VMM itself ("# vmm: [ time] ...") are not kernel lines.
# Also a splat: "# init: kmemleak: N leak(s)" with N > 0, the report
# /init prints after the last test when the kernel has kmemleak
# (tools/host-init/init.c), shown with its first object and the function that
# allocated it (from the "# kmemleak: " lines before it).
# Each distinct splat is printed once, with the number of times it
# occurred; the last line, "splat-check: N splat(s)", counts them all (a
# kmemleak report counts once). SPLAT_HOST_ONLY=1 leaves the L2 guests'
# splats out, for a run whose guests are meant to fail (the negative
# control "upstream", where they panic).
set -euo pipefail

log=${1:?usage: splat-check.sh LOG}

tr -d '\r' < "$log" | awk -v host_only="${SPLAT_HOST_ONLY:-0}" '
# One block per distinct splat (time stamp, CPU and PID left out of the
# comparison), in order of first appearance, with its next lines
function add(key, text) {
	splats++
	if (key in count) { count[key]++; cur = ""; return }
	count[key] = 1
	order[n++] = key
	block[key] = text
	cur = key
}
/^# kmemleak: unreferenced object/ && leak_obj == "" { leak_obj = substr($0, 13) }
/^# kmemleak:     [A-Za-z_]/ && leak_obj != "" && leak_fn == "" {
	fn = $0; sub(/^# kmemleak: +/, "", fn)
	if (fn !~ /^(__create_object|kmemleak_alloc|__kmalloc|kmalloc|__kmem_cache|kmem_cache_alloc|__alloc|alloc_|slab_|__vmalloc|vmalloc|kvmalloc|__kvmalloc)/)
		leak_fn = fn
}
/# init: kmemleak: [0-9]+ leak/ {
	l = $0; sub(/.*# init:/, "init:", l)
	k = l; sub(/ leak.*/, "", k); sub(/.*: /, "", k)
	if (k + 0 > 0) { add("kmemleak", l); leak_block = 1 }
	more = 0
	next
}
/vmm: \[ *[0-9]+\.[0-9]+\] / { more = 0; next }
match($0, /\[ *[0-9]+\.[0-9]+\] (WARNING:|BUG:|UBSAN:|kernel BUG at|Kernel BUG|Oops|Unable to handle kernel|Kernel panic|kmemleak: (Memory pool empty|Kernel memory leak detector disabled|Cannot allocate))/) {
	guest = substr($0, 1, RSTART - 1) ~ /^# / ? "L2 guest: " : ""
	if (guest != "" && host_only == 1) { more = 0; next }
	text = guest substr($0, RSTART)
	key = text
	sub(/\[ *[0-9]+\.[0-9]+\] /, "", key)
	gsub(/CPU: [0-9]+ PID: [0-9]+ /, "", key)
	add(key, text)
	more = 2
	next
}
# the next two lines of a splat, separator lines skipped
more > 0 && !/\] *(-+|=+|-+\[ cut here \]-+)?$/ {
	l = $0; sub(/^.*\[ *[0-9]+\.[0-9]+\] /, "", l)
	if (cur != "")
		block[cur] = block[cur] "\n         " l
	more--
}
END {
	if (leak_block && leak_obj != "")
		block["kmemleak"] = block["kmemleak"] "\n         first: " leak_obj \
			"\n         allocated in " leak_fn
	for (i = 0; i < n && i < 20; i++) {
		k = order[i]
		b = block[k]
		if (count[k] > 1)
			sub(/\n|$/, " (" count[k] " times)&", b)
		print "  splat: " b
	}
	if (n > 20)
		print "  splat: ... " n - 20 " more kinds not shown"
	if (splats)
		print "splat-check: " splats " splat(s)"
	exit splats ? 1 : 0
}'
