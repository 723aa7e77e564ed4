#!/bin/bash
# Apply patches/ (in the order of patches/series) on top of the base tag of
# TREE. A tree that already carries commits is left alone unless they differ
# from patches/ and FORCE=1 is set: those commits may be work in progress.
set -euo pipefail

tree=${1:?usage: apply-series.sh TREE PATCHDIR}
patchdir=$(realpath "${2:?usage: apply-series.sh TREE PATCHDIR}")

series_ids() {
	git patch-id --stable | cut -d' ' -f1 | sort
}

mapfile -t patches < <(grep -v '^#' "$patchdir/series" | sed '/^$/d')
in_repo=$(cd "$patchdir" && cat "${patches[@]}" | series_ids)
in_tree=$(git -C "$tree" format-patch --stdout base..HEAD | series_ids)

if [ "$in_tree" = "$in_repo" ]; then
	exit 0
fi
if [ -n "$in_tree" ] && [ "${FORCE:-0}" != 1 ]; then
	echo "apply-series: $tree has commits that differ from patches/;" \
	     "'make patches' saves them, 'make reapply' discards them" >&2
	exit 0
fi

git -C "$tree" am --abort >/dev/null 2>&1 || true
git -C "$tree" reset -q --hard base
(cd "$patchdir" && git -C "$tree" am -q "${patches[@]/#/$patchdir/}")

# The cover letter's subject and text live on as the branch description,
# which is where 'make patches' takes them from.
cover="$patchdir/0000-cover-letter.patch"
if [ -f "$cover" ]; then
	sed -n '/^Subject: /{s/^Subject: \[PATCH[^]]*\] //;p}' "$cover" > "$tree/.git/cover.txt"
	echo >> "$tree/.git/cover.txt"
	# body: from the end of the mail headers to the shortlog ("Name (N):")
	awk 'body && /^[^ ].* \([0-9]+\):$/ { exit } body { print } /^$/ { body = 1 }' \
		"$cover" >> "$tree/.git/cover.txt"
	git -C "$tree" config branch.master.description "$(cat "$tree/.git/cover.txt")"
fi
# The series has three parts, fixes, core and hardening, each after its line
# in patches/series ("# fixes", "# core", "# hardening"); the tree keeps
# the sizes for 'make patches': fixpatches, the fixes part, and
# corepatches, the fixes and the core together (change them with git
# config when a part grows or shrinks).
git -C "$tree" config branch.master.fixpatches "$("$(dirname "$0")/series-core.sh" --fixes "$patchdir")"
git -C "$tree" config branch.master.corepatches "$("$(dirname "$0")/series-core.sh" "$patchdir")"
echo "apply-series: applied ${#patches[@]} patches on base"
