#!/bin/bash
# A test host kernel of its own: a worktree of TREE at COMMIT (a revision
# of TREE: HEAD is the full series), configured with the given fragments
# (scripts/build/kconfig.sh) and its Image built. TREE itself, its
# branches and its .config stay untouched. Used for the debug kernel (host
# and debug fragments), by 'make bench' (the core-only kernel, and the
# kernel with function tracing), for the upstream guest
# (scripts/build/upstream-kernel.sh, a worktree of the upstream tree), and
# for the kernels of the negative controls and mutants, which change the
# worktree before they call it. Local changes in the worktree are kept,
# and named, so that a throwaway defect can be built with 'make debug'
# (Documentation/testing.md). PATCH="FILE..." instead drops local changes and
# applies each FILE (space-separated), test-only changes, to the clean
# checkout.
set -euo pipefail

usage="usage: worktree-kernel.sh TREE WORKTREE COMMIT FRAGMENT..."
tree=$(realpath "${1:?$usage}")
wt=$(realpath -m "${2:?$usage}")
commit=$(git -C "$tree" rev-parse "${3:?$usage}")
shift 3
[ $# -ge 1 ] || { echo "$usage" >&2; exit 2; }
top=$(realpath "$(dirname "$0")/../..")
name=$(basename "$wt")

# PATCH: a test-only change, applied afresh on a clean checkout each time
[ -n "${PATCH:-}" ] && [ -d "$wt" ] && git -C "$wt" checkout -q -- .
"$top/scripts/build/worktree.sh" "$tree" "$wt" "$commit"
applied=
if [ -n "${PATCH:-}" ]; then
	for p in $PATCH; do
		git -C "$wt" apply "$(realpath "$p")"
		applied+=" + ${p##*/}"
	done
else
	if [ -n "$(git -C "$wt" status --porcelain --untracked-files=no)" ]; then
		echo "$name: local changes in $wt (git -C $wt checkout -- . drops them):"
		git -C "$wt" status --short --untracked-files=no | sed 's/^/    /'
	fi
fi
echo "$name: $(git -C "$wt" log -1 --format='%h %s')$applied, $(printf '%s ' "${@##*/}")"
"$top/scripts/build/kconfig.sh" "$wt" "$@"
start=$(date +%s)
"$top/scripts/build/kmake.sh" "$wt" -s Image
echo "$name: $wt/arch/riscv/boot/Image ($(du -h "$wt/arch/riscv/boot/Image" | cut -f1)) in $(( $(date +%s) - start )) s"
