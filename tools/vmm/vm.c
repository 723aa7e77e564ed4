// SPDX-License-Identifier: GPL-2.0
/*
 * vmm: stopping the VM. run.c stops it when the guest shuts down or a
 * vCPU fails, watchdog.c when the guest hangs, and run.c's vCPU threads
 * are what watchdog.c samples and dumps: this file sits below both, so
 * that neither needs the other, and knows only the VM and its threads.
 */
#include <signal.h>

#include "vmm.h"

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
	}
	pthread_mutex_unlock(&vm->stop_lock);
}
