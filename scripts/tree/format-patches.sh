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
# Three parts, each after its line: "# fixes" (host fixes for 6.12), "# core"
# and "# hardening" (patches a maintainer may drop). See apply-series.sh for
# where the sizes live: corepatches counts the fixes and the core.
fixes=$(git -C "$tree" config branch.master.fixpatches || echo 0)
core=$(git -C "$tree" config branch.master.corepatches || echo 0)
(cd "$patchdir" && ls [0-9]*.patch | grep -v '^0000-cover-letter' |
	awk -v fixes="$fixes" -v core="$core" '
		NR == 1 && fixes > 0 { print "# fixes" }
		NR == fixes + 1 && fixes > 0 { print "# core" }
		NR == core + 1 && core > 0 { print "# hardening" }
		{ print }' > series)
echo "format-patches: $(grep -vc "^#" "$patchdir/series") patches in $patchdir"
