#!/bin/bash
# Build the test kernel's .config: allnoconfig plus our fragments, later
# fragments overriding earlier ones, then check that every option the
# fragments ask for (set, or "is not set") survived the dependency solver.
# A later fragment's "# gone: CONFIG_FOO" drops FOO from what earlier ones
# ask for: an option the kernel it is for no longer has.
set -euo pipefail

usage="usage: kconfig.sh TREE FRAGMENT [FRAGMENT...]"
tree=${1:?$usage}
shift
[ $# -ge 1 ] || { echo "$usage" >&2; exit 2; }

# One fragment for KCONFIG_ALLCONFIG: the last assignment of each symbol
merged=$(mktemp)
trap 'rm -f "$merged"' EXIT
for fragment in "$@"; do
	cat "$(realpath "$fragment")"
	echo
done | awk '
/^CONFIG_[A-Za-z0-9_]+=/ { sym = $0; sub(/=.*/, "", sym) }
/^# CONFIG_[A-Za-z0-9_]+ is not set$/ { sym = $2 }
/^# gone: CONFIG_[A-Za-z0-9_]+$/ { delete val[$3]; next }
sym != "" { if (!(sym in val)) order[n++] = sym; val[sym] = $0; sym = ""; next }
END { for (i = 0; i < n; i++) if (order[i] in val) print val[order[i]] }' > "$merged"

KCONFIG_ALLCONFIG="$merged" "$(dirname "$0")/kmake.sh" "$tree" -s allnoconfig
cd "$tree"

missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		if ! grep -qx "$line" .config; then
			echo "kconfig: $line did not stick" >&2
			missing=1
		fi ;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }
		sym=${sym%% *}
		if grep -q "^$sym=" .config; then
			echo "kconfig: $line did not stick: $(grep "^$sym=" .config)" >&2
			missing=1
		fi ;;
	esac
done < "$merged"
exit $missing
