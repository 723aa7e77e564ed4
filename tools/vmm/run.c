// SPDX-License-Identifier: GPL-2.0
/*
 * vmm: one thread per vCPU in KVM_RUN, the SBI exits other than SUSP
 * (suspend.c) and guest shutdown; vm.c stops and pauses the threads.
 */
#include <stdio.h>

#include "vmm.h"

/* guest console output is guest progress; --bench looks for its lines */
static void console_out(struct vcpu *vcpu, const void *buf, size_t len)
{
	if (!len)
		return;
	watchdog_progress();
	console_write(buf, len, vcpu->vm->opt->bench ? bench_console : NULL);
}

static void handle_dbcn(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	unsigned long num = run->riscv_sbi.args[0];
	uint64_t base = run->riscv_sbi.args[1];
	void *buf;

	switch (run->riscv_sbi.function_id) {
	case SBI_EXT_DBCN_WRITE:
		/* on RV64 base_addr_lo is the whole address; hi must be 0 */
		buf = gpa_to_hva(vcpu->vm, base, num);
		if (run->riscv_sbi.args[2] || !buf) {
			run->riscv_sbi.ret[0] = SBI_ERR_INVALID_PARAM;
			break;
		}
		console_out(vcpu, buf, num);
		run->riscv_sbi.ret[0] = SBI_SUCCESS;
		run->riscv_sbi.ret[1] = num;
		break;
	case SBI_EXT_DBCN_READ:
		/* no input: hvc0 polls here, so answer "0 bytes", not an error */
		run->riscv_sbi.ret[0] = SBI_SUCCESS;
		run->riscv_sbi.ret[1] = 0;
		break;
	case SBI_EXT_DBCN_WRITE_BYTE: {
		char c = run->riscv_sbi.args[0];

		console_out(vcpu, &c, 1);
		run->riscv_sbi.ret[0] = SBI_SUCCESS;
		run->riscv_sbi.ret[1] = 0;
		break;
	}
	default:
		run->riscv_sbi.ret[0] = SBI_ERR_NOT_SUPPORTED;
	}
}

static void handle_sbi(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char c;

	switch (run->riscv_sbi.extension_id) {
	case SBI_EXT_0_1_CONSOLE_PUTCHAR:
		c = run->riscv_sbi.args[0];
		console_out(vcpu, &c, 1);
		run->riscv_sbi.ret[0] = 0;
		break;
	case SBI_EXT_0_1_CONSOLE_GETCHAR:
		run->riscv_sbi.ret[0] = -1;	/* no input */
		break;
	case SBI_EXT_DBCN:
		handle_dbcn(vcpu);
		break;
	case SBI_EXT_SUSP:
		handle_susp(vcpu);
		break;
	default:
		vmm_log("vcpu%d: unhandled SBI call eid=0x%lx fid=%lu",
			vcpu->id, (unsigned long)run->riscv_sbi.extension_id,
			(unsigned long)run->riscv_sbi.function_id);
		run->riscv_sbi.ret[0] = SBI_ERR_NOT_SUPPORTED;
		run->riscv_sbi.ret[1] = 0;
	}
}

/* SRST comes here, not as an SBI exit: KVM has already stopped every vCPU */
static void handle_system_event(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	switch (run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vmm_log("shutdown: requested by vcpu%d", vcpu->id);
		stop_all(vcpu->vm, EXIT_PASS);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vmm_log("reset: requested by vcpu%d; this VMM does not reboot, "
			"treating it as guest failure", vcpu->id);
		stop_all(vcpu->vm, EXIT_FAIL);
		break;
	default:
		vmm_log("vcpu%d: unexpected system event %u", vcpu->id,
			run->system_event.type);
		stop_all(vcpu->vm, EXIT_FAIL);
	}
}

void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct kvm_run *run;

	if (vcpu->id == 0) {
		vcpu->vm->t_first_run = now();
		vmm_log("vm: vcpu0 enters the guest");
	}

	while (!vcpu->vm->stopping) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR) {
				watchdog_sample(vcpu);
				/* kicked for a pause: wait for the VM to go on */
				vm_park(vcpu);
				continue;
			}
			if (errno == EAGAIN)
				continue;
			vmm_log("vcpu%d: KVM_RUN: %s", vcpu->id, strerror(errno));
			stop_all(vcpu->vm, EXIT_FAIL);
			break;
		}

		/* each time: --save-restore gives the vCPU a new fd and kvm_run */
		run = vcpu->run;
		switch (run->exit_reason) {
		case KVM_EXIT_RISCV_SBI:
			handle_sbi(vcpu);
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			handle_system_event(vcpu);
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_MMIO:
			/* the DT describes no devices, so this is a guest bug */
			vmm_log("vcpu%d: MMIO %s at 0x%lx: no device there",
				vcpu->id, run->mmio.is_write ? "write" : "read",
				(unsigned long)run->mmio.phys_addr);
			stop_all(vcpu->vm, EXIT_FAIL);
			break;
		default:
			vmm_log("vcpu%d: unexpected exit reason %u", vcpu->id,
				run->exit_reason);
			stop_all(vcpu->vm, EXIT_FAIL);
		}
	}
	/*
	 * Here, not on the EINTR: whatever this thread was doing when the
	 * watchdog kicked it (KVM_RUN, a console exit, waiting for a wake),
	 * it dumps its vCPU once, out of KVM_RUN, as only it can.
	 */
	watchdog_dump(vcpu);
	return NULL;
}
