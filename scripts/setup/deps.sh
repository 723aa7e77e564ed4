#!/bin/bash
# Install the Debian packages the harness needs, only those missing.
set -euo pipefail

pkgs=(
	linux-source-6.12 gcc-riscv64-linux-gnu libc6-dev-riscv64-cross
	qemu-system-misc opensbi flex bison bc libelf-dev libssl-dev cpio
	ccache xz-utils rsync perl libc6-dev python3-ply python3-git sparse device-tree-compiler git make gcc
	python3-sphinx python3-sphinx-rtd-theme python3-docutils python3-yaml
	gnuplot-nox
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "deps: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
