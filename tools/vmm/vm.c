// SPDX-License-Identifier: GPL-2.0
/*
 * vmm: the VM's life. Creating it (once at start, and anew for
 * --save-restore, snapshot.c), pausing its vCPU threads and stopping them.
 * run.c stops the VM when the guest shuts down or a vCPU fails, watchdog.c
 * when the guest hangs, and run.c's vCPU threads are what watchdog.c
 * samples and dumps: this file sits below those and calls only aia.c and
 * util.c.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>

#include "vmm.h"

/*
 * Extensions must be enabled before the vCPU first runs (KVM returns
 * -EBUSY after that).  SUSP and DBCN are both off by default.
 */
static void enable_sbi_exts(struct vcpu *vcpu)
{
	if (set_reg(vcpu, SBI_EXT_REG(KVM_RISCV_SBI_EXT_DBCN), 1))
		die_errno("vcpu%d: enabling SBI DBCN (KVM_SET_ONE_REG)", vcpu->id);

	if (vcpu->vm->opt->no_susp)
		return;
	if (set_reg(vcpu, SBI_EXT_REG(KVM_RISCV_SBI_EXT_SUSP), 1)) {
		if (errno == ENOENT || errno == EINVAL) {
			fprintf(stderr, "vmm: this KVM does not offer SBI SUSP "
				"(enabling KVM_RISCV_SBI_EXT_SUSP=%d on vcpu%d: %s); skipping\n",
				KVM_RISCV_SBI_EXT_SUSP, vcpu->id, strerror(errno));
			exit(EXIT_SKIP);
		}
		die_errno("vcpu%d: enabling SBI SUSP (KVM_SET_ONE_REG)", vcpu->id);
	}
}

static void create_vcpu(struct vm_state *vm, int id)
{
	struct vcpu *vcpu = &vm->vcpus[id];

	vcpu->id = id;
	vcpu->vm = vm;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0)
		die_errno("KVM_CREATE_VCPU(%d)", id);
	vcpu->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED)
		die_errno("mapping kvm_run of vcpu%d", id);

	enable_sbi_exts(vcpu);

	/*
	 * Secondary harts start in HSM STOPPED; the guest starts them with
	 * HART_START, which KVM handles without telling us.
	 */
	if (id) {
		struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_STOPPED };

		if (ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp))
			die_errno("KVM_SET_MP_STATE(vcpu%d, STOPPED)", id);
	}
}

/* A VM with vm->ram as its memory and its vCPUs, none of them run yet */
static void create_vm(struct vm_state *vm)
{
	struct kvm_userspace_memory_region region;

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		die_errno("KVM_CREATE_VM");

	region = (struct kvm_userspace_memory_region) {
		.slot = 0,
		.guest_phys_addr = RAM_BASE,
		.memory_size = vm->ram_size,
		.userspace_addr = (uintptr_t)vm->ram,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region))
		die_errno("KVM_SET_USER_MEMORY_REGION(slot 0 at 0x%lx)", RAM_BASE);

	for (int i = 0; i < vm->opt->smp; i++)
		create_vcpu(vm, i);
}

void vm_create(struct vm_state *vm)
{
	const struct options *opt = vm->opt;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		fprintf(stderr, "vmm: cannot open /dev/kvm: %s (no KVM on this host, skipping)\n",
			strerror(errno));
		exit(EXIT_SKIP);
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if ((long)vm->run_size <= 0)
		die_errno("KVM_GET_VCPU_MMAP_SIZE");

	vm->ram_size = opt->mem_mib << 20;
	vm->ram = mmap(NULL, vm->ram_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED)
		die_errno("mapping %lu MiB of guest RAM", opt->mem_mib);

	create_vm(vm);
	/* after the vCPUs: KVM gives each one an IMSIC */
	if (!opt->no_aia)
		aia_create(vm);
	vmm_log("vm: SBI DBCN%s enabled on %d vcpu(s)",
		opt->no_susp ? "" : " and SUSP", opt->smp);
}

/*
 * Under stop_lock: stop_all() reaches the vCPUs through their kvm_run,
 * which this replaces. The vCPU threads stay; the caller has paused them
 * (vm_pause()), and they go on with the new vCPUs' fd and kvm_run.
 */
void vm_recreate(struct vm_state *vm, void *ram)
{
	pthread_mutex_lock(&vm->stop_lock);
	for (int i = 0; i < vm->opt->smp; i++) {
		munmap(vm->vcpus[i].run, vm->run_size);
		close(vm->vcpus[i].fd);
	}
	/* the last reference: KVM destroys the VM here */
	close(vm->vm_fd);
	munmap(vm->ram, vm->ram_size);

	vm->ram = ram;
	create_vm(vm);
	pthread_mutex_unlock(&vm->stop_lock);
}

void kick_handler(int sig)
{
	(void)sig;	/* only here so that KVM_RUN returns -EINTR */
}

/*
 * Stop every vCPU thread.  immediate_exit catches a thread that is between
 * its stopping check and KVM_RUN; the signal wakes one sleeping inside
 * KVM_RUN (a stopped hart sleeps there) or waiting for a wake event.
 */
void stop_all(struct vm_state *vm, int status)
{
	pthread_mutex_lock(&vm->stop_lock);
	if (!vm->stopping) {
		vm->exit_status = status;
		vm->stopping = true;
		for (int i = 0; i < vm->opt->smp; i++) {
			vm->vcpus[i].run->immediate_exit = 1;
			if (!pthread_equal(vm->vcpus[i].thread, pthread_self()))
				pthread_kill(vm->vcpus[i].thread, SIGUSR2);
		}
		/* a vm_pause() waiting for the threads gives up */
		pthread_cond_broadcast(&vm->pause_cond);
	}
	pthread_mutex_unlock(&vm->stop_lock);
}

/*
 * Get every vCPU thread but @self's out of KVM_RUN, as stop_all() does,
 * and keep it out until vm_continue(): KVM_GET_ONE_REG and the like take
 * the vCPU's mutex, which KVM_RUN holds as long as a stopped vCPU sleeps
 * in it. False, with the threads let go again, if the VM is being stopped
 * instead.
 */
bool vm_pause(struct vcpu *self)
{
	struct vm_state *vm = self->vm;
	bool paused;

	pthread_mutex_lock(&vm->stop_lock);
	vm->pausing = true;
	for (int i = 0; i < vm->opt->smp; i++) {
		if (&vm->vcpus[i] == self)
			continue;
		vm->vcpus[i].run->immediate_exit = 1;
		pthread_kill(vm->vcpus[i].thread, SIGUSR2);
	}
	while (vm->nr_parked < vm->opt->smp - 1 && !vm->stopping)
		pthread_cond_wait(&vm->pause_cond, &vm->stop_lock);
	paused = !vm->stopping;
	pthread_mutex_unlock(&vm->stop_lock);

	if (!paused)
		vm_continue(self);
	return paused;
}

void vm_continue(struct vcpu *self)
{
	struct vm_state *vm = self->vm;

	pthread_mutex_lock(&vm->stop_lock);
	vm->pausing = false;
	/* stop_all() set it for good: a stopping thread must not sleep */
	for (int i = 0; i < vm->opt->smp && !vm->stopping; i++) {
		if (&vm->vcpus[i] != self)
			vm->vcpus[i].run->immediate_exit = 0;
	}
	pthread_cond_broadcast(&vm->pause_cond);
	/* one still parked would take the next pause for this one */
	while (vm->nr_parked)
		pthread_cond_wait(&vm->pause_cond, &vm->stop_lock);
	pthread_mutex_unlock(&vm->stop_lock);
}

/* A vCPU thread kicked out of KVM_RUN waits here while the VM is paused */
void vm_park(struct vcpu *vcpu)
{
	struct vm_state *vm = vcpu->vm;

	pthread_mutex_lock(&vm->stop_lock);
	if (vm->pausing) {
		vm->nr_parked++;
		pthread_cond_broadcast(&vm->pause_cond);
		while (vm->pausing)
			pthread_cond_wait(&vm->pause_cond, &vm->stop_lock);
		vm->nr_parked--;
		pthread_cond_broadcast(&vm->pause_cond);
	}
	pthread_mutex_unlock(&vm->stop_lock);
}
