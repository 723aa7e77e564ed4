// SPDX-License-Identifier: GPL-2.0
/*
 * vmm: --save-restore. At each suspend it accepts, once the wake event has
 * come, the VMM saves the whole VM (every vCPU's registers and MP state,
 * a copy of the guest RAM), destroys it and restores it into a new VM of
 * the same process: what a migration of a suspended guest does, without
 * the wire. The guest must then resume in the new VM as it would have in
 * the old one.
 *
 * State read at the SUSP exit is the state of the call (pc at the ecall):
 * restored, it replays the call. So the VMM first completes the exit, as
 * QEMU does before it saves a vCPU: it answers the call and runs the vCPU
 * once with immediate_exit set. On a kernel with the series' hardening
 * that KVM_RUN performs the pending resume before it returns, and the
 * state read after it is the resumed one (pc = resume_addr, a0 = hartid,
 * a1 = opaque, satp = 0). On the core and on upstream kernels it only
 * takes the answer (pc past the ecall) and leaves the resume pending, in
 * the VM we are about to destroy: the guest restored from that state sees
 * its SYSTEM_SUSPEND return. See Documentation/vmm-guide.md, "Saving a
 * suspended VM".
 *
 * The in-kernel AIA's state (APLIC, IMSICs) is not saved: main.c refuses
 * --save-restore with a guest that has it.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "vmm.h"

struct vcpu_image {
	struct kvm_reg_list	*list;	/* KVM_GET_REG_LIST: what to save */
	uint8_t			*vals;	/* each register's bytes, in list order */
	struct kvm_mp_state	mp;
};

static unsigned long nr_save_restores;

unsigned long save_restore_count(void)
{
	return nr_save_restores;
}

static struct kvm_reg_list *reg_list(struct vcpu *vcpu)
{
	struct kvm_reg_list probe = { .n = 0 }, *list;

	/* too small: E2BIG, and n says how many there are */
	if (ioctl(vcpu->fd, KVM_GET_REG_LIST, &probe) != -1 || errno != E2BIG)
		die_errno("save-restore: vcpu%d: KVM_GET_REG_LIST of no registers",
			  vcpu->id);
	list = malloc(sizeof(*list) + probe.n * sizeof(list->reg[0]));
	if (!list)
		die(EXIT_FAIL, "out of memory");
	list->n = probe.n;
	if (ioctl(vcpu->fd, KVM_GET_REG_LIST, list))
		die_errno("save-restore: vcpu%d: KVM_GET_REG_LIST", vcpu->id);
	return list;
}

static void save_vcpu(struct vcpu *vcpu, struct vcpu_image *img)
{
	size_t size = 0;

	img->list = reg_list(vcpu);
	for (uint64_t i = 0; i < img->list->n; i++)
		size += KVM_REG_SIZE(img->list->reg[i]);
	img->vals = malloc(size);
	if (!img->vals)
		die(EXIT_FAIL, "out of memory");

	size = 0;
	for (uint64_t i = 0; i < img->list->n; i++) {
		struct kvm_one_reg reg = {
			.id = img->list->reg[i],
			.addr = (uintptr_t)(img->vals + size),
		};

		if (ioctl(vcpu->fd, KVM_GET_ONE_REG, &reg))
			die_errno("save-restore: vcpu%d: reading register 0x%llx",
				  vcpu->id, (unsigned long long)reg.id);
		size += KVM_REG_SIZE(reg.id);
	}
	if (ioctl(vcpu->fd, KVM_GET_MP_STATE, &img->mp))
		die_errno("save-restore: vcpu%d: KVM_GET_MP_STATE", vcpu->id);
}

/* The saved value of a 64-bit register, or false if it was not saved */
static bool saved_reg(const struct vcpu_image *img, uint64_t id,
		      uint64_t *val)
{
	size_t off = 0;

	for (uint64_t i = 0; i < img->list->n; i++) {
		if (img->list->reg[i] == id) {
			memcpy(val, img->vals + off, sizeof(*val));
			return true;
		}
		off += KVM_REG_SIZE(img->list->reg[i]);
	}
	return false;
}

/*
 * What the vCPU is rather than where it is: which ISA and SBI extensions
 * it has and its config. They decide which other registers exist and what
 * they hold, and KVM takes them only before the vCPU first runs.
 */
static bool reg_is_config(uint64_t id)
{
	switch (id & KVM_REG_RISCV_TYPE_MASK) {
	case KVM_REG_RISCV_CONFIG:
	case KVM_REG_RISCV_ISA_EXT:
	case KVM_REG_RISCV_SBI_EXT:
		return true;
	default:
		return false;
	}
}

/*
 * Load @img into a new vCPU, made as the saved one was: the config first,
 * then every other register in KVM's list order, which has the timer's
 * time before its compare value and compare before its state. Only values
 * that differ are written: fewer ioctls, and the config registers, the
 * same on both sides, are never written at all, so KVM has no rule about
 * changing them to break. Returns how many were written.
 *
 * The timer's time is the VM's (an offset KVM keeps to the host's time):
 * written back, the guest's time goes on from where it was saved, not
 * from now, as after a migration; the time the VM spent being saved and
 * restored does not pass for the guest.
 */
static int restore_vcpu(struct vcpu *vcpu, const struct vcpu_image *img)
{
	uint8_t cur[256];	/* KVM_REG_SIZE_U2048: the largest there is */
	int written = 0;

	for (int pass = 0; pass < 2; pass++) {
		size_t off = 0;

		for (uint64_t i = 0; i < img->list->n; i++) {
			uint64_t id = img->list->reg[i];
			size_t size = KVM_REG_SIZE(id);
			struct kvm_one_reg reg = { .id = id };

			off += size;
			if (reg_is_config(id) != !pass)
				continue;
			if (size > sizeof(cur))
				die(EXIT_FAIL, "save-restore: register 0x%llx has %zu bytes",
				    (unsigned long long)id, size);
			reg.addr = (uintptr_t)cur;
			if (ioctl(vcpu->fd, KVM_GET_ONE_REG, &reg))
				die_errno("save-restore: vcpu%d: the new vCPU has no register 0x%llx",
					  vcpu->id, (unsigned long long)id);
			if (!memcmp(cur, img->vals + off - size, size))
				continue;
			reg.addr = (uintptr_t)(img->vals + off - size);
			if (ioctl(vcpu->fd, KVM_SET_ONE_REG, &reg))
				die_errno("save-restore: vcpu%d: writing register 0x%llx",
					  vcpu->id, (unsigned long long)id);
			written++;
		}
	}
	/* last: RUNNABLE for the resumed vCPU, STOPPED for the others */
	if (ioctl(vcpu->fd, KVM_SET_MP_STATE, &img->mp))
		die_errno("save-restore: vcpu%d: KVM_SET_MP_STATE(%u)", vcpu->id,
			  img->mp.mp_state);
	return written;
}

/*
 * From handle_susp() on the suspending vCPU's thread, with the answer to
 * the exit in its kvm_run. @log: whether this suspend's lines are logged.
 */
void save_restore(struct vcpu *vcpu, bool log)
{
	struct vm_state *vm = vcpu->vm;
	uint64_t resume_addr = vcpu->run->riscv_sbi.args[1], pc;
	struct vcpu_image img[MAX_VCPUS];
	double t_start = now();
	int written = 0, ret;
	unsigned long nr_regs;
	void *ram;

	/*
	 * Complete the exit: KVM takes ret[] and, with the hardening, resumes
	 * the vCPU, then returns without entering the guest. Not the vCPU
	 * thread's loop: this thread must not park.
	 */
	vcpu->run->immediate_exit = 1;
	ret = ioctl(vcpu->fd, KVM_RUN, 0);
	if (ret != -1 || errno != EINTR)
		die(EXIT_FAIL, "save-restore: vcpu%d: KVM_RUN with immediate_exit returned %d (%s), not EINTR",
		    vcpu->id, ret, ret ? strerror(errno) : "no error");
	vcpu->run->immediate_exit = 0;

	/*
	 * The others are STOPPED (KVM accepted the suspend), their threads
	 * asleep in KVM_RUN, holding their vCPU's mutex: get them out.
	 */
	if (!vm_pause(vcpu))
		return;		/* the VM is being stopped */

	for (int i = 0; i < vm->opt->smp; i++)
		save_vcpu(&vm->vcpus[i], &img[i]);
	nr_regs = img[vcpu->id].list->n;
	if (!saved_reg(&img[vcpu->id], CORE_REG(regs.pc), &pc))
		die(EXIT_FAIL, "save-restore: vcpu%d: no pc in KVM_GET_REG_LIST",
		    vcpu->id);
	if (pc != resume_addr)
		vmm_log("save-restore: vcpu%d pc=0x%lx after the exit was completed, not resume_addr 0x%lx: this KVM left the resume pending, and the new VM will not resume the guest",
			vcpu->id, (unsigned long)pc, (unsigned long)resume_addr);

	ram = mmap(NULL, vm->ram_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED)
		die_errno("save-restore: mapping %zu MiB for the copy of guest RAM",
			  vm->ram_size >> 20);
	memcpy(ram, vm->ram, vm->ram_size);

	/* the copy is the new VM's RAM; the kernel Image is in it already */
	vm_recreate(vm, ram);
	for (int i = 0; i < vm->opt->smp; i++) {
		written += restore_vcpu(&vm->vcpus[i], &img[i]);
		free(img[i].list);
		free(img[i].vals);
	}
	vm_continue(vcpu);

	nr_save_restores++;
	if (log)
		vmm_log("save-restore: #%lu %d vcpu(s), %zu MiB of RAM, %lu registers per vcpu, into a new VM in %.3f s (%d registers written)",
			nr_save_restores, vm->opt->smp, vm->ram_size >> 20,
			nr_regs, now() - t_start, written);
}
