#!/bin/bash
# Boot a test host: IMAGE with the initramfs of one test list
# (scripts/build/initramfs.sh), under QEMU (scripts/run/run-qemu.sh). The
# console goes to LOG and stdout; the initramfs lands beside LOG, with
# .cpio for .log. The one way every target boots a test host.
#   boot.sh IMAGE LIST LOG
# The programs come from TREE, SELFTESTS and STAGE (build/linux,
# build/selftests and build/stage by default), and from UPSTREAM_SELFTESTS
# and CORE_SELFTESTS for the lists that name them; QEMU_AIA, QEMU_RVA23, QEMU and
# QEMU_TIMEOUT choose the test host (run-qemu.sh).
set -euo pipefail

usage="usage: boot.sh IMAGE LIST LOG"
image=${1:?$usage}
list=${2:?$usage}
log=${3:?$usage}
top=$(realpath "$(dirname "$0")/../..")

"$top/scripts/build/initramfs.sh" "${TREE:-$top/build/linux}" \
	"${SELFTESTS:-$top/build/selftests}" "${STAGE:-$top/build/stage}" \
	"$list" "${log%.log}.cpio"
"$top/scripts/run/run-qemu.sh" "$image" "${log%.log}.cpio" "$log"
