// SPDX-License-Identifier: GPL-2.0
/*
 * vmm: SBI system suspend. By the time a SUSP exit reaches us, KVM has
 * checked the call and prepared the resume of the calling vCPU; the other
 * vCPUs are stopped. The VMM quiesces what it emulates, waits for a wake
 * event and lets the vCPU run again: the next KVM_RUN resumes it at the
 * address the guest asked for. See Documentation/vmm-guide.md.
 */
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "vmm.h"

static unsigned long nr_suspends, nr_denied;
static unsigned long nr_timer_wakes, nr_sigusr1_wakes;
static double t_first_suspend, t_last_suspend;
static double *round_trips;

enum wake { WAKE_NONE, WAKE_TIMER, WAKE_SIGUSR1 };

/*
 * Wait for something to wake the suspended guest: SIGUSR1 sent to the
 * process (all threads block it, so sigtimedwait() collects it) or the
 * --wake-after timer.  Returns WAKE_NONE if we are being stopped instead.
 */
static enum wake wait_for_wake(const struct vm_state *vm)
{
	long wake_after_ms = vm->opt->wake_after_ms;
	struct timespec ts = {
		.tv_sec = wake_after_ms / 1000,
		.tv_nsec = (wake_after_ms % 1000) * 1000000,
	};
	struct timespec zero = { 0 };
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);

	/*
	 * A wake button pressed while the guest was running wakes nothing:
	 * drop a SIGUSR1 that arrived before this suspend.
	 */
	while (sigtimedwait(&set, NULL, &zero) == SIGUSR1)
		;

	for (;;) {
		if (wake_after_ms > 0)
			sig = sigtimedwait(&set, NULL, &ts);
		else
			sig = sigwaitinfo(&set, NULL);
		if (sig == SIGUSR1)
			return WAKE_SIGUSR1;
		if (sig < 0 && errno == EAGAIN)
			return WAKE_TIMER;
		if (vm->stopping)
			return WAKE_NONE;
		/* EINTR from a stray signal: the timer restarts, good enough */
	}
}

/*
 * SUSP: by the time we get here KVM has validated the call (sleep type,
 * S-mode caller, resume_addr in a memslot, every other vCPU stopped) and
 * queued a reset of this vCPU to pc = resume_addr, a0 = hartid,
 * a1 = opaque, applied at the next KVM_RUN.  All that is left for us is to
 * quiesce devices (we have none), wait for a wake event, and say "yes".
 */
void handle_susp(struct vcpu *vcpu)
{
	const struct options *opt = vcpu->vm->opt;
	struct kvm_run *run = vcpu->run;
	double t_suspend, t_resume;
	unsigned long n;
	enum wake wake;
	bool log;

	if (run->riscv_sbi.function_id != SBI_EXT_SUSP_SYSTEM_SUSPEND) {
		run->riscv_sbi.ret[0] = SBI_ERR_NOT_SUPPORTED;
		return;
	}

	t_suspend = now();
	watchdog_progress();
	if (opt->bench)
		bench_exit(vcpu, t_suspend);
	if (!t_first_suspend)
		t_first_suspend = t_suspend;
	t_last_suspend = t_suspend;
	/* the first and every Nth suspend exit (handled or denied) */
	n = nr_suspends + nr_denied + 1;
	log = opt->log_every && (n == 1 || n % opt->log_every == 0);
	if (log)
		vmm_log("suspend: #%lu vcpu%d sleep_type=0x%lx resume_addr=0x%lx opaque=0x%lx",
			n, vcpu->id, (unsigned long)run->riscv_sbi.args[0],
			(unsigned long)run->riscv_sbi.args[1],
			(unsigned long)run->riscv_sbi.args[2]);

	if (opt->deny_suspend) {
		/*
		 * With DENIED or FAILURE, KVM drops the pending reset and the
		 * guest sees this error (hardening only); other errors resume.
		 */
		run->riscv_sbi.ret[0] = opt->deny_suspend;
		run->riscv_sbi.ret[1] = 0;
		nr_denied++;
		if (log)
			vmm_log("suspend: denied with SBI error %ld", opt->deny_suspend);
		return;
	}

	/* a guest asleep is no hang, however long its wake takes */
	watchdog_asleep(true);
	wake = wait_for_wake(vcpu->vm);
	watchdog_asleep(false);
	if (wake == WAKE_NONE)
		return;
	if (wake == WAKE_TIMER) {
		nr_timer_wakes++;
		if (log)
			vmm_log("wake: timer after %ld ms", opt->wake_after_ms);
	} else {
		nr_sigusr1_wakes++;
		if (log)
			vmm_log("wake: SIGUSR1");
	}

	/*
	 * SBI_SUCCESS says what we mean. Any answer but SBI_ERR_DENIED and
	 * SBI_ERR_FAILURE resumes (the preset NOT_SUPPORTED too); those two
	 * refuse the suspend with the series' hardening, and resume on a
	 * kernel with only its core, as upstream.
	 */
	run->riscv_sbi.ret[0] = SBI_SUCCESS;
	run->riscv_sbi.ret[1] = 0;

	/* the guest resumes in a new VM: a new vCPU, run is stale after this */
	if (opt->save_restore)
		save_restore(vcpu, log);

	t_resume = now();
	round_trips = realloc(round_trips, (nr_suspends + 1) * sizeof(double));
	if (!round_trips)
		die(EXIT_FAIL, "out of memory");
	round_trips[nr_suspends++] = t_resume - t_suspend;
	if (log)
		vmm_log("resume: vcpu%d (round trip %.3f s)", vcpu->id,
			t_resume - t_suspend);
	/* last: the vCPU thread goes straight back into KVM_RUN */
	if (opt->bench)
		bench_resume(vcpu, nr_suspends);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Print what the suspends cost and check --expect-suspends; returns the
 * exit status of the VMM, @status unless the count is wrong. The last two
 * lines are the host's view of the run, whatever the guest printed.
 */
int suspend_summary(const struct vm_state *vm, int status)
{
	const struct options *opt = vm->opt;

	if (nr_suspends) {
		double median;

		qsort(round_trips, nr_suspends, sizeof(double), cmp_double);
		median = (round_trips[(nr_suspends - 1) / 2] +
			  round_trips[nr_suspends / 2]) / 2;
		vmm_log("summary: %lu suspend(s), %lu denied, median suspend->resume round trip %.3f s, first suspend %.3f s after vcpu0 entered the guest",
			nr_suspends, nr_denied, median, t_first_suspend - vm->t_first_run);
		vmm_log("summary: round trip min %.3f s, max %.3f s; woken by timer %lu, by SIGUSR1 %lu; last suspend %.3f s after vcpu0 entered the guest",
			round_trips[0], round_trips[nr_suspends - 1],
			nr_timer_wakes, nr_sigusr1_wakes,
			t_last_suspend - vm->t_first_run);
	} else {
		vmm_log("summary: 0 suspends, %lu denied", nr_denied);
	}
	if (opt->save_restore)
		vmm_log("summary: %lu save-restore(s), each into a new VM",
			save_restore_count());
	if (opt->expect_suspends < 0)
		vmm_log("summary: %lu suspend(s) handled, no --expect-suspends",
			nr_suspends);
	else if ((unsigned long)opt->expect_suspends == nr_suspends)
		vmm_log("summary: %lu suspend(s) handled, as --expect-suspends %ld expected",
			nr_suspends, opt->expect_suspends);
	else {
		vmm_log("expected %ld suspend(s), handled %lu", opt->expect_suspends,
			nr_suspends);
		if (status == EXIT_PASS)
			status = EXIT_MISMATCH;
	}
	return status;
}
