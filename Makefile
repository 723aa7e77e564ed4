# SBI system suspend for KVM RISC-V on Linux 6.12: build, boot, test.
#
#   make          build everything, boot the test host under QEMU and run the
#                 suspend demo: the new selftest and a Linux guest suspending
#                 and resuming under tools/vmm
#   make check    quality gates on the series, then the whole test suite
#
# Everything built lands in build/ (ignored by git); ccache keeps its cache
# outside the clone, in ~/.cache/kvm-susp/ccache (scripts/kmake.sh).

SHELL := /bin/bash
TOP := $(CURDIR)
BUILD := $(TOP)/build
TREE := $(BUILD)/linux
PATCHES := $(TOP)/patches
FRAGMENT := $(TOP)/arch/riscv/configs/kvm_susp_host.config

LOCK := flock /tmp/kvm-susp-build.lock

IMAGE := $(TREE)/arch/riscv/boot/Image
HDR := $(BUILD)/headers
SELFTESTS := $(BUILD)/selftests

.PHONY: all demo check gates deps tree reapply patches maintainers kernel selftests \
	vmm run negative mutants clean

all: demo

deps:
	@scripts/deps.sh

$(TREE)/.git/refs/tags/base:
	@scripts/get-base.sh $(TREE)

tree: deps $(TREE)/.git/refs/tags/base
	@scripts/apply-series.sh $(TREE) $(PATCHES)

reapply: $(TREE)/.git/refs/tags/base
	@FORCE=1 scripts/apply-series.sh $(TREE) $(PATCHES)

patches:
	@scripts/format-patches.sh $(TREE) $(PATCHES)
	@scripts/maintainers.sh $(TREE) $(PATCHES) > MAINTAINERS

kernel: tree
	@echo "kernel: building Image"
	@$(LOCK) scripts/kconfig.sh $(TREE) $(FRAGMENT)
	@$(LOCK) scripts/kmake.sh $(TREE) -s Image
	@ls -l $(IMAGE)

selftests: tree
	@echo "selftests: headers_install and KVM selftests (static)"
	@$(LOCK) scripts/build-selftests.sh $(TREE) $(HDR) $(SELFTESTS)

vmm: kernel selftests
	@scripts/vmm-files.sh $(BUILD)/stage $(HDR)

# Boot the test host with one test list: make run LIST=tools/tests/demo.list
# HOST=aia boots a test host with AIA, where KVM offers guests its
# in-kernel AIA (scripts/run-qemu.sh); HOST=plain (default) one without.
LIST ?= tools/tests/demo.list
HOST ?= plain
RUN := $(notdir $(basename $(LIST)))$(if $(filter aia,$(HOST)),-aia)
run:
	@scripts/initramfs.sh $(TREE) $(SELFTESTS) $(BUILD)/stage $(LIST) \
		$(BUILD)/initramfs-$(notdir $(basename $(LIST))).cpio
	@QEMU_AIA=$(if $(filter aia,$(HOST)),1,0) scripts/run-qemu.sh $(IMAGE) \
		$(BUILD)/initramfs-$(notdir $(basename $(LIST))).cpio \
		$(BUILD)/qemu-$(RUN).log
	@echo "test host: $(HOST)"
	@scripts/tap-summary.sh $(BUILD)/qemu-$(RUN).log tools/tests/known-failures $(HOST)

demo: kernel selftests vmm
	@$(MAKE) -s run LIST=tools/tests/demo.list

# The new selftest against kernels lacking parts of the series
negative: kernel selftests vmm
	@$(LOCK) scripts/negative-controls.sh $(TREE) $(SELFTESTS) $(BUILD)

gates: tree
	@$(LOCK) scripts/gates.sh $(TREE) $(PATCHES) $(BUILD)

# The whole suite on both test hosts; the summary of the run on the host
# without AIA is the last thing printed
check: gates kernel selftests vmm
	@$(MAKE) -s negative
	@$(MAKE) -s run LIST=tools/tests/full.list HOST=aia
	@$(MAKE) -s run LIST=tools/tests/full.list

clean:
	rm -rf $(BUILD)

# Each case of the suspend selftest against a kernel with a defect it
# must catch (not part of check: about a minute per kernel)
mutants: kernel selftests vmm
	@$(LOCK) scripts/mutants.sh $(TREE) $(SELFTESTS) $(BUILD) $(MUTANTS)
