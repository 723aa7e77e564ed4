#!/bin/bash
# Install TREE's uapi headers into HDR and cross-build its KVM selftests,
# static, into OUT.
set -euo pipefail

tree=$(realpath "${1:?usage: build-selftests.sh TREE HDR OUT}")
hdr=$(realpath -m "${2:?usage: build-selftests.sh TREE HDR OUT}")
out=$(realpath -m "${3:?usage: build-selftests.sh TREE HDR OUT}")
here=$(dirname "$0")

"$here/kmake.sh" "$tree" -s INSTALL_HDR_PATH="$hdr" headers_install
"$here/kmake.sh" "$tree/tools/testing/selftests/kvm" -s \
	KHDR_INCLUDES="-isystem $hdr/include" EXTRA_CFLAGS=-static OUTPUT="$out"
