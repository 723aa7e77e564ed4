#!/bin/bash
# Write the commits on top of TREE's base tag back to PATCHDIR as the
# series: cover letter (from the branch description), patches, series file.
set -euo pipefail

tree=${1:?usage: format-patches.sh TREE PATCHDIR}
patchdir=${2:?usage: format-patches.sh TREE PATCHDIR}

if ! git -C "$tree" config branch.master.description >/dev/null; then
	echo "format-patches: no cover letter text; set it with" \
	     "'git -C $tree branch --edit-description'" >&2
	exit 1
fi

# A fixed abbreviation keeps the index lines the same from any clone of
# the tree, whatever its number of objects.
mkdir -p "$patchdir"
rm -f "$patchdir"/*.patch
git -C "$tree" -c core.abbrev=12 format-patch -q --cover-letter --cover-from-description=subject \
	--base=base --zero-commit -o "$(realpath "$patchdir")" base..HEAD
# Core first, then the hardening patches a maintainer may drop, after a
# "# hardening" line (see apply-series.sh for where the core's size lives).
core=$(git -C "$tree" config branch.master.corepatches || echo 0)
(cd "$patchdir" && ls [0-9]*.patch | grep -v '^0000-cover-letter' |
	awk -v core="$core" '
		NR == core + 1 && core > 0 { print "# hardening" }
		{ print }' > series)
echo "format-patches: $(grep -vc "^#" "$patchdir/series") patches in $patchdir"
