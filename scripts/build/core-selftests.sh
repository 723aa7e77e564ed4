#!/bin/bash
# The KVM selftests as the core part of the series builds them, into OUT:
# a worktree of TREE at the core's last patch (scripts/tree/series-core.sh),
# its uapi headers and its selftests (scripts/build/build-selftests.sh). The
# core's sbi_system_suspend_test pins upstream's behaviour in every case
# api.rst describes, two of which the hardening changes (an immediate_exit
# KVM_RUN after a suspend exit), so this build, not the full series', is
# the one that runs on the upstream kernel ('make upstream') and on the
# core-only kernel (negative control "core"). Installed as /kvm-core.
set -euo pipefail

usage="usage: core-selftests.sh TREE PATCHDIR OUT"
tree=$(realpath "${1:?$usage}")
patchdir=$(realpath "${2:?$usage}")
out=$(realpath -m "${3:?$usage}")
here=$(dirname "$0")
wt=$(dirname "$out")/core-linux

n=$("$here/../tree/series-core.sh" "$patchdir")
commit=$(git -C "$tree" rev-list --reverse base..HEAD | sed -n "${n}p")
[ -n "$commit" ] || { echo "core-selftests: no patch $n in $tree" >&2; exit 1; }
"$here/worktree.sh" "$tree" "$wt" "$commit"
echo "core-selftests: $(git -C "$wt" log -1 --format='%h %s')"
"$here/build-selftests.sh" "$wt" "$(dirname "$out")/core-headers" "$out"
