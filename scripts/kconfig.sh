#!/bin/bash
# Build the test kernel's .config: allnoconfig plus our fragment, then check
# that every option the fragment asks for survived the dependency solver.
set -euo pipefail

tree=${1:?usage: kconfig.sh TREE FRAGMENT}
fragment=$(realpath "${2:?usage: kconfig.sh TREE FRAGMENT}")

KCONFIG_ALLCONFIG="$fragment" "$(dirname "$0")/kmake.sh" "$tree" -s allnoconfig
cd "$tree"

missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		if ! grep -qx "$line" .config; then
			echo "kconfig: $line did not stick" >&2
			missing=1
		fi ;;
	esac
done < "$fragment"
exit $missing
