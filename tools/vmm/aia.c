// SPDX-License-Identifier: GPL-2.0
/*
 * vmm: KVM's in-kernel AIA, given to the guest whenever the host has AIA,
 * as QEMU and kvmtool do: an IMSIC interrupt file per vCPU, through which
 * the guest takes its IPIs and MSIs without the VMM, and an APLIC in MSI
 * mode for wired interrupts (this VMM has no device that raises one). KVM
 * emulates both, or gives vCPUs hardware guest interrupt files where the
 * host has them; the VMM only places them in guest physical memory and
 * describes them in the device tree (fdt.c).
 *
 * The device is created after the vCPUs (KVM sets up an IMSIC for each
 * vCPU that exists) and before any of them runs.
 */
#include <stdio.h>

#include "vmm.h"

/* Below RAM, where QEMU's virt machine puts its S-mode APLIC and IMSICs */
#define AIA_APLIC_BASE		0x0d000000UL
#define AIA_IMSIC_BASE		0x28000000UL
#define AIA_NR_SOURCES		32

static int aia_attr(int fd, uint32_t group, uint64_t attr, void *val,
		    bool write)
{
	struct kvm_device_attr da = {
		.group = group,
		.attr = attr,
		.addr = (uintptr_t)val,
	};

	return ioctl(fd, write ? KVM_SET_DEVICE_ATTR : KVM_GET_DEVICE_ATTR, &da);
}

static void aia_config(int fd, uint64_t attr, uint32_t val, const char *what)
{
	if (aia_attr(fd, KVM_DEV_RISCV_AIA_GRP_CONFIG, attr, &val, true))
		die_errno("AIA: setting %s to %u", what, val);
}

static void aia_addr(int fd, uint64_t attr, uint64_t gpa, const char *what)
{
	if (aia_attr(fd, KVM_DEV_RISCV_AIA_GRP_ADDR, attr, &gpa, true))
		die_errno("AIA: placing %s at 0x%lx", what, (unsigned long)gpa);
}

void aia_create(struct vm_state *vm)
{
	const struct options *opt = vm->opt;
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_RISCV_AIA };
	uint32_t mode, nr_ids, hart_bits = 0;
	char what[32];

	if (ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &cd)) {
		if (errno != ENODEV)
			die_errno("KVM_CREATE_DEVICE(RISC-V AIA)");
		vmm_log("vm: no in-kernel AIA on this host; the guest gets none");
		return;
	}

	if (opt->aia_mode >= 0)
		aia_config(cd.fd, KVM_DEV_RISCV_AIA_CONFIG_MODE, opt->aia_mode,
			   "mode");

	/* KVM's defaults: the most IDs the host's IMSIC has, its best mode */
	if (aia_attr(cd.fd, KVM_DEV_RISCV_AIA_GRP_CONFIG,
		     KVM_DEV_RISCV_AIA_CONFIG_MODE, &mode, false) ||
	    aia_attr(cd.fd, KVM_DEV_RISCV_AIA_GRP_CONFIG,
		     KVM_DEV_RISCV_AIA_CONFIG_IDS, &nr_ids, false))
		die_errno("AIA: reading the default configuration");

	/* vCPU i's IMSIC page is the i-th one: hart index = page number */
	while ((1 << hart_bits) < opt->smp)
		hart_bits++;
	aia_config(cd.fd, KVM_DEV_RISCV_AIA_CONFIG_HART_BITS, hart_bits,
		   "hart index bits");
	aia_config(cd.fd, KVM_DEV_RISCV_AIA_CONFIG_SRCS, AIA_NR_SOURCES,
		   "APLIC sources");

	aia_addr(cd.fd, KVM_DEV_RISCV_AIA_ADDR_APLIC, AIA_APLIC_BASE, "the APLIC");
	for (int i = 0; i < opt->smp; i++) {
		snprintf(what, sizeof(what), "the IMSIC of vcpu%d", i);
		aia_addr(cd.fd, KVM_DEV_RISCV_AIA_ADDR_IMSIC(i),
			 AIA_IMSIC_BASE + i * KVM_DEV_RISCV_IMSIC_SIZE, what);
	}

	if (aia_attr(cd.fd, KVM_DEV_RISCV_AIA_GRP_CTRL,
		     KVM_DEV_RISCV_AIA_CTRL_INIT, NULL, true))
		die_errno("AIA: KVM_DEV_RISCV_AIA_CTRL_INIT");

	/* kept for the watchdog's IMSIC dump */
	vm->aia_fd = cd.fd;
	vm->aia = (struct aia_layout) {
		.imsic_base = AIA_IMSIC_BASE,
		.aplic_base = AIA_APLIC_BASE,
		.aplic_size = KVM_DEV_RISCV_APLIC_SIZE,
		.nr_ids = nr_ids,
		.nr_sources = AIA_NR_SOURCES,
	};
	vmm_log("vm: in-kernel AIA (%s mode): IMSICs at 0x%lx, %u IDs each; APLIC at 0x%lx, %u sources",
		mode == KVM_DEV_RISCV_AIA_MODE_EMUL ? "emulated" :
		mode == KVM_DEV_RISCV_AIA_MODE_HWACCEL ? "hardware" : "auto",
		AIA_IMSIC_BASE, nr_ids, AIA_APLIC_BASE, AIA_NR_SOURCES);
}

/*
 * KVM takes the vCPU mutex for this, as for KVM_GET_ONE_REG: only the
 * vCPU's own thread, out of KVM_RUN, gets an answer without waiting.
 */
int aia_imsic_get(struct vcpu *vcpu, unsigned int isel, unsigned long *val)
{
	const struct vm_state *vm = vcpu->vm;

	if (!vm->aia.nr_ids)
		return -1;
	return aia_attr(vm->aia_fd, KVM_DEV_RISCV_AIA_GRP_IMSIC,
			KVM_DEV_RISCV_AIA_IMSIC_MKATTR(vcpu->id, isel), val,
			false);
}
