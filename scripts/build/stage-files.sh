#!/bin/bash
# Copy each FILE into DIR, unless DIR already has the same content, by a
# rename: a test host whose initramfs is packed from DIR at the same time
# (make check boots them side by side) reads the old file or the new one,
# never half of one.
#   stage-files.sh DIR FILE...
set -euo pipefail

dir=${1:?usage: stage-files.sh DIR FILE...}
shift
mkdir -p "$dir"
for f in "$@"; do
	dst=$dir/$(basename "$f")
	cmp -s "$f" "$dst" && continue
	cp "$f" "$dst.new"
	mv "$dst.new" "$dst"
done
