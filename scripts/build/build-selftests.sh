#!/bin/bash
# Install TREE's uapi headers into HDR and cross-build its KVM selftests,
# static, into OUT. KEEP_GOING=1 builds every program that builds and
# names those that do not (make -k), for a tree that is not ours: Debian
# 12's cross compiler does not build all of upstream 7.x's programs.
set -euo pipefail

tree=$(realpath "${1:?usage: build-selftests.sh TREE HDR OUT}")
hdr=$(realpath -m "${2:?usage: build-selftests.sh TREE HDR OUT}")
out=$(realpath -m "${3:?usage: build-selftests.sh TREE HDR OUT}")
here=$(dirname "$0")

"$here/kmake.sh" "$tree" -s INSTALL_HDR_PATH="$hdr" headers_install
build=("$here/kmake.sh" "$tree/tools/testing/selftests/kvm" -s
       KHDR_INCLUDES="-isystem $hdr/include" EXTRA_CFLAGS=-static OUTPUT="$out")
if [ "${KEEP_GOING:-0}" != 1 ]; then
	"${build[@]}"
	exit 0
fi
mkdir -p "$out"
if ! "${build[@]}" -k > "$out/build.log" 2>&1; then
	echo "build-selftests: these do not build (full log in $out/build.log):"
	grep -o 'No rule to make target .*\|\*\*\* \[.*\] Error [0-9]*' "$out/build.log" |
		sed 's/^/    /' | sort -u
fi
