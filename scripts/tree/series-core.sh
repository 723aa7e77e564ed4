#!/bin/bash
# Print how many patches of PATCHDIR/series a kernel with the core has:
# those before the "# hardening" line (the fixes part and the core), or
# all of them when there is none. With --fixes, print how many form the
# fixes part: those before the "# core" line, 0 when there is none.
set -euo pipefail

end='# hardening'
if [ "${1:-}" = --fixes ]; then
	end='# core'
	shift
fi
series=${1:?usage: series-core.sh [--fixes] PATCHDIR}/series
# without a "# core" line there is no fixes part
if [ "$end" = '# core' ] && ! grep -qx "$end" "$series"; then
	echo 0
	exit 0
fi
sed -n "/^$end\$/q;/^[^#]/p" "$series" | sed '/^$/d' | wc -l
