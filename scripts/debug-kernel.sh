#!/bin/bash
# The debug test host kernel: a worktree of TREE at the commit TREE has
# checked out (master, the full series), configured with the host fragment
# and the debug fragment on top (lockdep, KASAN, UBSAN, kmemleak), and its
# Image built. TREE itself, its branches and its .config stay untouched.
# Local changes in the worktree are kept, and named, so that a throwaway
# defect can be built with 'make debug' (Documentation/testing.md).
set -euo pipefail

usage="usage: debug-kernel.sh TREE WORKTREE FRAGMENT..."
tree=$(realpath "${1:?$usage}")
wt=$(realpath -m "${2:?$usage}")
shift 2
[ $# -ge 1 ] || { echo "$usage" >&2; exit 2; }
top=$(realpath "$(dirname "$0")/..")

if [ ! -d "$wt" ]; then
	git -C "$tree" worktree prune
	git -C "$tree" worktree add -q --detach "$wt" HEAD
fi
git -C "$wt" checkout -q --detach "$(git -C "$tree" rev-parse HEAD)"
if [ -n "$(git -C "$wt" status --porcelain --untracked-files=no)" ]; then
	echo "debug-kernel: local changes in $wt (git -C $wt checkout -- . drops them):"
	git -C "$wt" status --short --untracked-files=no | sed 's/^/    /'
fi
echo "debug-kernel: $(git -C "$wt" log -1 --format='%h %s'), $(printf '%s ' "${@##*/}")"
"$top/scripts/kconfig.sh" "$wt" "$@"
start=$(date +%s)
"$top/scripts/kmake.sh" "$wt" -s Image
echo "debug-kernel: $wt/arch/riscv/boot/Image ($(du -h "$wt/arch/riscv/boot/Image" | cut -f1)) in $(( $(date +%s) - start )) s"
