#!/bin/bash
# Extract a Debian linux-source tarball into DIR (which must be empty, but
# for a worktree's .git file), with the kernel's own .gitignore: Debian's
# ends with a block that ignores everything at the top level (for its
# packaging), which hides new files from git, 'git add -A' included.
#   extract-tarball.sh TARBALL DIR
set -euo pipefail

tarball=${1:?usage: extract-tarball.sh TARBALL DIR}
dir=${2:?usage: extract-tarball.sh TARBALL DIR}

tar -xJf "$tarball" -C "$dir" --strip-components=1
cd "$dir"
if grep -qn '^/\*$' .gitignore; then
	line=$(grep -n '^/\*$' .gitignore | head -n 1 | cut -d: -f1)
	# also drop the comment lines that introduce the block
	while [ "$line" -gt 1 ] && sed -n "$((line - 1))p" .gitignore | grep -q '^#'; do
		line=$((line - 1))
	done
	head -n $((line - 1)) .gitignore > .gitignore.kernel
	mv .gitignore.kernel .gitignore
fi
