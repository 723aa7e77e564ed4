#!/bin/bash
# The upstream test host: the newest linux-source-7.x Debian offers
# (trixie-backports or sid; no fixed version), extracted into TREE as a git
# tree of its own (scripts/tree/get-base.sh), configured with the host fragment
# and what 7.x needs on top of it (kvm_susp_upstream.config), and its Image
# built. It runs the series' core cases, built from our tree (they are
# userspace), to measure that the core behaves as upstream does
# (Documentation/testing.md, "Upstream"). The tarball is fetched once, into
# TREE-src; remove both to take a newer one.
#
# A second Image, TREE-guest (a worktree of TREE), is the same kernel with
# the series' two guest fixes that 7.x lacks: the scounteren fix as it
# applies to 7.x (tools/tests/upstream-scounteren.patch), without which
# the guest loses user access to the time CSR on an upstream host, and
# the hotplug fix as the series has it (it applies as is), without which
# a dying CPU may not have stopped when the suspend comes, more often the
# busier the machine. It is the upstream guest of the reference VMM.
set -euo pipefail

tree=$(realpath -m "${1:?usage: upstream-kernel.sh TREE}")
top=$(realpath "$(dirname "$0")/../..")
src=$tree-src

if [ ! -s "$src/packages" ]; then
	rm -rf "$src" "$tree"
	"$top/scripts/setup/debian-fetch.sh" "$src" trixie-backports,sid '/^linux-source-7\.[0-9]+$/'
fi
package=$(head -n 1 "$src/packages")
tarball=$(echo "$src/usr/src/${package%% *}.tar.xz")
LINUX_TARBALL=$tarball LINUX_PACKAGE=$package "$top/scripts/tree/get-base.sh" "$tree"
"$top/scripts/build/kconfig.sh" "$tree" "$top/arch/riscv/configs/kvm_susp_host.config" \
	"$top/arch/riscv/configs/kvm_susp_upstream.config"
start=$(date +%s)
"$top/scripts/build/kmake.sh" "$tree" -s Image
echo "upstream: $package, $tree/arch/riscv/boot/Image ($(du -h "$tree/arch/riscv/boot/Image" | cut -f1)) in $(( $(date +%s) - start )) s"

hotplug_fix=$(echo "$top"/patches/*-riscv-cpu_ops_sbi-Wait-for-a-dying-hart-to-reach-HSM.patch)
PATCH="$top/tools/tests/upstream-scounteren.patch $hotplug_fix" \
	"$top/scripts/build/worktree-kernel.sh" \
	"$tree" "$tree-guest" base "$top/arch/riscv/configs/kvm_susp_host.config" \
	"$top/arch/riscv/configs/kvm_susp_upstream.config"
