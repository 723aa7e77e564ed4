#!/bin/bash
# make in a kernel tree, for the riscv64 test kernel: the cross compiler
# through ccache, with paths taken relative to the tree so that one cache
# serves every tree and clone.
set -euo pipefail

tree=$(realpath "${1:?usage: kmake.sh TREE [MAKE ARGUMENTS...]}")
shift

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/kvm-susp/ccache}
export CCACHE_BASEDIR=$tree
export CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
exec make -C "$tree" ARCH=riscv CROSS_COMPILE=riscv64-linux-gnu- \
	CC="ccache riscv64-linux-gnu-gcc" -j"$(($(nproc) + 1))" "$@"
