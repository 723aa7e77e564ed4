#!/bin/bash
# A worktree of TREE at COMMIT (detached), made when missing: the one way
# the scripts get a second checkout of the kernel tree (the gates, the core
# part's selftests, the negative controls, the mutants, the debug, bench
# and upstream guest kernels). Local changes in an existing worktree stay
# as long as COMMIT does not touch them; TREE, its branches and its build
# stay untouched.
#   worktree.sh TREE WORKTREE COMMIT
set -euo pipefail

usage="usage: worktree.sh TREE WORKTREE COMMIT"
tree=$(realpath "${1:?$usage}")
wt=$(realpath -m "${2:?$usage}")
commit=$(git -C "$tree" rev-parse "${3:?$usage}")

if [ ! -d "$wt" ]; then
	git -C "$tree" worktree prune
	git -C "$tree" worktree add -q --detach "$wt" "$commit"
fi
git -C "$wt" checkout -q --detach "$commit"
