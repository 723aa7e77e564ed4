#!/bin/bash
# Print how many patches of PATCHDIR/series form the core: those before the
# "# hardening" line, or all of them when there is none.
set -euo pipefail

series=${1:?usage: series-core.sh PATCHDIR}/series
sed -n '/^# hardening/q;/^[^#]/p' "$series" | sed '/^$/d' | wc -l
