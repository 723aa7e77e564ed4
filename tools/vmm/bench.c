// SPDX-License-Identifier: GPL-2.0
/*
 * vmm: --bench, the VMM's half of the suspend/resume benchmark of a Linux
 * guest (the guest's half is tools/guest-init's bench=1). When it resumes
 * the guest, the VMM prints one line per suspend:
 *
 *   bench-vmm: vcpus=N cycle=K echo_to_exit_us=.. asleep_us=..
 *              cpu_asleep_us=.. exit_ticks=.. run_ticks=.. timebase=..
 *
 * on two clocks. Our CLOCK_MONOTONIC: from the guest's console line
 * "bench: suspend K", which its /init prints right before it writes "mem"
 * to /sys/power/state, to the SUSP exit (-1 if no such line came since the
 * last suspend); and from the exit to the KVM_RUN that resumes the guest.
 * And the guest's time CSR (KVM's timer "time" register, the host's time
 * CSR plus the guest's delta: what the guest reads with rdtime), at the
 * exit and before that KVM_RUN, for the bench script to set against the
 * guest's own rdtime readings. cpu_asleep_us is what the whole process
 * (every thread, user and system) spent over the same span: the host cost
 * of a suspended guest.
 */
#include <stdio.h>
#include <sys/resource.h>

#include "vmm.h"

#define ECHO_LINE	"bench: suspend "

/* console_out() runs on whichever vCPU printed; the SUSP exit on another */
static pthread_mutex_t echo_lock = PTHREAD_MUTEX_INITIALIZER;
static double t_echo = -1;
static char line[sizeof(ECHO_LINE)];
static size_t line_len;

static double t_exit;
static uint64_t exit_ticks;
static long long cpu_exit_us;

/* Called with the console's output lock held: lines come whole, in order */
void bench_console(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n') {
			if (line_len < sizeof(line) - 1)
				line[line_len++] = buf[i];
			continue;
		}
		/* the line is complete when its newline reaches us */
		if (line_len == sizeof(line) - 1 &&
		    !memcmp(line, ECHO_LINE, line_len)) {
			pthread_mutex_lock(&echo_lock);
			t_echo = now();
			pthread_mutex_unlock(&echo_lock);
		}
		line_len = 0;
	}
}

static uint64_t guest_ticks(struct vcpu *vcpu)
{
	uint64_t t;

	if (get_reg(vcpu, TIMER_REG(time), &t))
		die_errno("vcpu%d: KVM_GET_ONE_REG(timer time)", vcpu->id);
	return t;
}

static long long cpu_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		die_errno("getrusage");
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL +
	       ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* At the SUSP exit; @t is now() taken as it came in */
void bench_exit(struct vcpu *vcpu, double t)
{
	t_exit = t;
	exit_ticks = guest_ticks(vcpu);
	cpu_exit_us = cpu_us();
}

/*
 * Last thing before the KVM_RUN that resumes the guest: the guest's time
 * is read last, so that run_ticks is as close to that KVM_RUN as we can
 * have it and still print it (the line itself is written after it).
 */
void bench_resume(struct vcpu *vcpu, unsigned long cycle)
{
	const struct vm_state *vm = vcpu->vm;
	long long cpu = cpu_us(), echo_us = -1;
	double t_run = now();
	uint64_t run_ticks = guest_ticks(vcpu);

	pthread_mutex_lock(&echo_lock);
	if (t_echo >= 0)
		echo_us = (t_exit - t_echo) * 1e6;
	t_echo = -1;	/* one console line per suspend */
	pthread_mutex_unlock(&echo_lock);

	vmm_line("bench-vmm: vcpus=%d cycle=%lu echo_to_exit_us=%lld asleep_us=%lld cpu_asleep_us=%lld exit_ticks=%llu run_ticks=%llu timebase=%llu",
		 vm->opt->smp, cycle, echo_us, (long long)((t_run - t_exit) * 1e6),
		 cpu - cpu_exit_us, (unsigned long long)exit_ticks,
		 (unsigned long long)run_ticks, (unsigned long long)vm->timebase);
}
