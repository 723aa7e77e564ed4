# SBI system suspend for KVM RISC-V on Linux 6.12: build, boot, test.
#
#   make          build everything, boot the test host under QEMU and run the
#                 suspend demo: the new selftest and a Linux guest suspending
#                 and resuming under tools/vmm
#   make check    quality gates on the series, then the whole test suite,
#                 last on a debug kernel (lockdep, KASAN, UBSAN, kmemleak)
#   make bench    what a suspend costs: against its floor, by vCPU count,
#                 for a Linux guest, and a profile of the resume path
#                 (Documentation/performance.md)
#   make soak     the long suspend runs 10 and 5 times longer, on both test
#                 hosts while a second QEMU loads the machine (25 min per host)
#   make upstream the core's cases on Debian's newest upstream 7.x kernel as
#                 the test host (part of check)
#
# Everything built lands in build/ (ignored by git); ccache keeps its cache
# outside the clone, in ~/.cache/kvm-susp/ccache (scripts/build/kmake.sh).

SHELL := /bin/bash
TOP := $(CURDIR)
BUILD := $(TOP)/build
TREE := $(BUILD)/linux
PATCHES := $(TOP)/patches
FRAGMENT := $(TOP)/arch/riscv/configs/kvm_susp_host.config
# The debug test host: a worktree of the tree, the host fragment and the
# debug fragment on top (scripts/build/worktree-kernel.sh)
DEBUG_TREE := $(BUILD)/debug-linux
DEBUG_FRAGMENT := $(TOP)/arch/riscv/configs/kvm_susp_debug.config
DEBUG_IMAGE := $(DEBUG_TREE)/arch/riscv/boot/Image
# The upstream test host: Debian's newest linux-source-7.x, a tree of its
# own (scripts/build/upstream-kernel.sh)
UPSTREAM_TREE := $(BUILD)/upstream
UPSTREAM_IMAGE := $(UPSTREAM_TREE)/arch/riscv/boot/Image
# ... and its worktree with our scounteren fix ported, the upstream guest
UPSTREAM_GUEST_IMAGE := $(UPSTREAM_TREE)-guest/arch/riscv/boot/Image
UPSTREAM_SELFTESTS := $(BUILD)/upstream-selftests
# Our selftests as the core part builds them (scripts/build/core-selftests.sh):
# the ABI test of upstream's behaviour, for the upstream and core kernels
CORE_SELFTESTS := $(BUILD)/core-selftests

# One kernel or selftest build at a time, whichever target or step runs it
export BUILD_LOCK := /tmp/kvm-susp-build.lock
LOCK := flock $(BUILD_LOCK)

IMAGE := $(TREE)/arch/riscv/boot/Image
HDR := $(BUILD)/headers
SELFTESTS := $(BUILD)/selftests

.PHONY: all demo check gates deps tree reapply patches kernel selftests \
	vmm run negative mutants clean debug-kernel debug bench soak \
	upstream-kernel upstream-selftests upstream-stage upstream core-selftests \
	host-tools

all: demo

# Debian 12's packages, then QEMU 10.0 and OpenSBI 1.5.1 from
# bookworm-backports, extracted into build/qemu10 (the test hosts' QEMU)
deps:
	@scripts/setup/deps.sh
	@scripts/setup/qemu10.sh $(BUILD)/qemu10

$(TREE)/.git/refs/tags/base:
	@scripts/tree/get-base.sh $(TREE)

tree: deps $(TREE)/.git/refs/tags/base
	@scripts/tree/apply-series.sh $(TREE) $(PATCHES)

reapply: $(TREE)/.git/refs/tags/base
	@FORCE=1 scripts/tree/apply-series.sh $(TREE) $(PATCHES)

patches:
	@scripts/tree/format-patches.sh $(TREE) $(PATCHES)
	@scripts/tree/maintainers.sh $(TREE) $(PATCHES) > MAINTAINERS

kernel: tree
	@echo "kernel: building Image"
	@$(LOCK) scripts/build/kconfig.sh $(TREE) $(FRAGMENT)
	@$(LOCK) scripts/build/kmake.sh $(TREE) -s Image
	@ls -l $(IMAGE)

selftests: tree
	@echo "selftests: headers_install and KVM selftests (static)"
	@$(LOCK) scripts/build/build-selftests.sh $(TREE) $(HDR) $(SELFTESTS)

vmm: kernel selftests
	@scripts/build/vmm-files.sh $(BUILD)/stage $(HDR)

core-selftests: tree
	@echo "core-selftests: the core part's KVM selftests (static)"
	@$(LOCK) scripts/build/core-selftests.sh $(TREE) $(PATCHES) $(CORE_SELFTESTS)

# tools/bench's programs on the selftest library, staged as /bench:
# sbi_susp_abandoned for check (tools/tests/abandoned.list), and the bench
host-tools: selftests
	@$(MAKE) -s -C tools/bench TREE=$(TREE) SELFTESTS=$(SELFTESTS) HDR=$(HDR) \
		OUT=$(BUILD)/stage/bench

# Boot the test host with one test list: make run LIST=tools/tests/demo.list
# HOST=aia boots a test host with AIA, where KVM offers guests its
# in-kernel AIA (scripts/run/run-qemu.sh); HOST=rva23 one with AIA and the
# RVA23 profile's CPU (Sv39 only, V, Smstateen); HOST=plain (default) one
# without AIA.
# KERNEL=debug boots the debug kernel ('make debug-kernel') instead, its
# log is build/qemu-debug[-LIST].log; KERNEL=upstream the upstream 7.x
# kernel ('make upstream-kernel'), build/qemu-upstream-LIST.log. The
# emulator is QEMU 10.0 from build/qemu10; QEMU=system boots the system's
# QEMU 7.2 instead, QEMU=DIR another extraction (scripts/setup/qemu10.sh), to
# compare a list's runs: the log's name ends in -system (-DIR's last
# component).
LIST ?= tools/tests/demo.list
HOST ?= plain
KERNEL ?= normal
QEMU ?=
LISTNAME = $(notdir $(basename $(LIST)))
KERNEL_IMAGE = $(if $(filter debug,$(KERNEL)),$(DEBUG_IMAGE),$(if $(filter upstream,$(KERNEL)),$(UPSTREAM_IMAGE),$(IMAGE)))
RUN = $(if $(filter-out normal,$(KERNEL)),$(KERNEL)$(if $(filter-out $(KERNEL),$(LISTNAME)),-$(LISTNAME)),$(LISTNAME))$(if $(filter-out plain,$(HOST)),-$(HOST))$(if $(QEMU),-$(notdir $(patsubst %/,%,$(QEMU))))
run:
	$(if $(filter-out system,$(QEMU)),@scripts/setup/qemu10.sh $(QEMU))
	@UPSTREAM_SELFTESTS=$(UPSTREAM_SELFTESTS) CORE_SELFTESTS=$(CORE_SELFTESTS) \
		TREE=$(TREE) SELFTESTS=$(SELFTESTS) STAGE=$(BUILD)/stage \
		QEMU_AIA=$(if $(filter aia rva23,$(HOST)),1,0) \
		QEMU_RVA23=$(if $(filter rva23,$(HOST)),1,0) QEMU=$(QEMU) \
		scripts/run/boot.sh $(KERNEL_IMAGE) $(LIST) $(BUILD)/qemu-$(RUN).log
	@echo "test host: $(HOST)$(if $(filter-out normal,$(KERNEL)), ($(KERNEL) kernel))$(if $(QEMU), on QEMU $(QEMU))"
	@scripts/run/tap-summary.sh $(BUILD)/qemu-$(RUN).log tools/tests/known-failures \
		$(HOST)$(if $(filter system,$(QEMU)),-system)

demo: kernel selftests vmm
	@$(MAKE) -s run LIST=tools/tests/demo.list

# The new selftest against kernels lacking parts of the series
negative: kernel selftests vmm host-tools upstream-kernel core-selftests
	@scripts/check/negative-controls.sh $(TREE) $(SELFTESTS) $(BUILD)

gates: tree
	@scripts/check/gates.sh $(TREE) $(PATCHES) $(BUILD)

# The debug kernel (lockdep, KASAN, UBSAN, kmemleak) in its own worktree
debug-kernel: tree
	@$(LOCK) scripts/build/worktree-kernel.sh $(TREE) $(DEBUG_TREE) HEAD $(FRAGMENT) $(DEBUG_FRAGMENT)

# tools/tests/debug.list on the debug kernel, on the test host without AIA;
# any kernel splat fails it (scripts/run/splat-check.sh). The L2 guests of the
# reference VMM keep the normal Image. Log: build/qemu-debug.log
DEBUG_QEMU_TIMEOUT ?= 2400
debug: debug-kernel selftests vmm
	@QEMU_TIMEOUT=$(DEBUG_QEMU_TIMEOUT) $(MAKE) -s run \
		LIST=tools/tests/debug.list KERNEL=debug

# The upstream test host: Debian's newest upstream 7.x kernel, on the test
# host with AIA, runs our ABI test and fuzzer (built from the full series,
# and the ABI test also as the core part builds it, /kvm-core:
# tools/tests/upstream.list), the stock tests of full.list as
# the 7.x tree's own selftests build them (/kvm-upstream: 6.12's
# sbi_pmu_test expects what 7.1 fixed), and the reference VMM's suspend
# tests with our 6.12 guest and with the upstream kernel as the guest
# (with our scounteren and hotplug fixes: scripts/build/upstream-kernel.sh). Every
# one must pass (Documentation/testing.md, "Upstream"). The hardening
# programs and tests and the guests without our fixes, which must fail
# there, are the negative control "upstream".
upstream-kernel: deps
	@$(LOCK) scripts/build/upstream-kernel.sh $(UPSTREAM_TREE)

upstream-selftests: upstream-kernel
	@echo "upstream-selftests: the 7.x tree's KVM selftests (static)"
	@KEEP_GOING=1 $(LOCK) scripts/build/build-selftests.sh $(UPSTREAM_TREE) \
		$(BUILD)/upstream-headers $(UPSTREAM_SELFTESTS)

# upstream-stage: what its test host needs, in build/stage and
# build/upstream.list
upstream-stage: upstream-selftests core-selftests selftests vmm
	@cp $(UPSTREAM_GUEST_IMAGE) $(BUILD)/Image-upstream-fixed
	@scripts/build/stage-files.sh $(BUILD)/stage/vmm $(BUILD)/Image-upstream-fixed
	@scripts/run/upstream-list.sh tools/tests/full.list tools/tests/upstream.list \
		> $(BUILD)/upstream.list
upstream: upstream-stage
	@$(MAKE) -s run LIST=$(BUILD)/upstream.list HOST=aia KERNEL=upstream

# The kernel, selftests and VMM, then the steps CHECK_JOBS at a time
# (scripts/run/steps.sh; one per core by default), the longest first: the
# gates, the negative controls, the whole suite on the test host with the
# RVA23 CPU and AIA and on the plain one, the debug kernel's run (its
# summary is printed last), the upstream test host, the long runs on both
# hosts. A test host's QEMU keeps a core or so busy, and a build both;
# what a step builds it builds under the build lock, one at a time, and a
# test host boots beside a build, so that the cores a single-threaded
# part of a build (an extraction, a link, sphinx) leaves idle do not stay
# idle. The host memory probe (abandoned.list) runs after the long runs
# of the plain host, in the same boot. Each step's output is printed
# whole when it ends, in this order; the logs are in build/check-logs.
# Each step says what it cost ("step NAME: N s"), but the last, whose
# summary stays the last line (the debug kernel's QEMU time is in its
# output).
STEP := scripts/run/step.sh
CHECK_JOBS ?= $(shell nproc)
check:
	@$(STEP) build $(MAKE) -s kernel selftests vmm host-tools
	@cat tools/tests/long.list tools/tests/abandoned.list > $(BUILD)/long-abandoned.list
	@scripts/run/steps.sh $(CHECK_JOBS) $(BUILD)/check-logs debug \
		gates '$(MAKE) -s gates' \
		negative '$(MAKE) -s negative' \
		full-rva23 '$(MAKE) -s run LIST=tools/tests/full.list HOST=rva23' \
		full '$(MAKE) -s run LIST=tools/tests/full.list' \
		debug '$(MAKE) -s debug' \
		upstream '$(MAKE) -s upstream' \
		long-rva23 '$(MAKE) -s run LIST=tools/tests/long.list HOST=rva23' \
		long-abandoned '$(MAKE) -s run LIST=$(BUILD)/long-abandoned.list'

clean:
	rm -rf $(BUILD)

# Each case of the suspend selftests against a kernel with a defect it
# must catch (not part of check: about a minute per kernel)
mutants: kernel selftests vmm host-tools
	@$(LOCK) scripts/check/mutants.sh $(TREE) $(SELFTESTS) $(BUILD) $(MUTANTS)

# What a suspend costs, on the core-only kernel, the full series, the
# upstream 7.x kernel (the yardstick for the core: upstream's own SUSP) and
# a kernel with the function graph tracer (not part of check; the core and
# tracer kernels are worktrees of their own, build/bench-core and
# build/bench-trace). The report lands in build/bench
# (Documentation/performance.md).
bench: kernel selftests vmm upstream-kernel
	@scripts/check/bench.sh $(TREE) $(SELFTESTS) $(BUILD) $(PATCHES) $(UPSTREAM_IMAGE)

# The reference VMM's long runs, 10,000 cycles with 2 vCPUs and 1,000 with
# 4 (tools/tests/soak.list), on both test hosts while a second test host
# QEMU loads the machine; a report of cycles, denials, lost CPUs and the
# slowest cycle in build/soak/report.txt (not part of check: 25 min per host).
# SOAK_SCALE=100 divides the cycle counts by 100 for a smoke run.
SOAK_SCALE ?= 1
soak: kernel selftests vmm
	@SOAK_SCALE=$(SOAK_SCALE) scripts/check/soak.sh $(TREE) $(SELFTESTS) $(BUILD)
