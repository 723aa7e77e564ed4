// SPDX-License-Identifier: GPL-2.0
/*
 * vmm: --watchdog SECONDS, for guests that hang without a word. Progress
 * is guest console output, a SUSP exit and the wake of a suspended guest;
 * the time a suspended guest waits for its wake event is not a hang. After
 * SECONDS without progress the VMM says so, every vCPU prints its state
 * and the VMM stops with EXIT_FAIL.
 *
 * Only a vCPU's own thread can read its state: KVM_GET_ONE_REG, and the
 * IMSIC attributes of the AIA device too, take the vCPU mutex, which
 * KVM_RUN holds for as long as the vCPU runs or sleeps in it. So the
 * watchdog only stops the VM (stop_all() kicks every vCPU thread out of
 * KVM_RUN) and each vCPU thread dumps itself on its way out.
 */
#include <glob.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vmm.h"

/* how long the vCPU threads get for their dumps before we give up */
#define DUMP_GRACE_S	10

/*
 * One dump shows where a vCPU was, not whether it is stuck there or going
 * round a loop (an interrupt storm, say): before it stops the VM the
 * watchdog kicks every vCPU out of KVM_RUN this many times, this far
 * apart, and each one notes where it was.
 */
#define NR_SAMPLES	8
#define SAMPLE_GAP_MS	50

/*
 * now() of the last progress in ms, and whether the guest sleeps: a flag
 * of its own, as another vCPU's console output must not start the clock
 * again (without the series' hardening one may still run in a suspend).
 */
static atomic_long progress_ms;
static atomic_bool asleep, fired;

struct sample {
	bool		taken;
	uint64_t	pc, scause, sstatus;
};

static struct sample samples[MAX_VCPUS][NR_SAMPLES];
/* per vCPU: 1 + the index of the sample its thread is to take, or 0 */
static atomic_int sample_wanted[MAX_VCPUS];

/* keeps the lines of one vCPU's dump together */
static pthread_mutex_t dump_lock = PTHREAD_MUTEX_INITIALIZER;
static int nr_dumped;

void watchdog_progress(void)
{
	progress_ms = now() * 1000;
}

/*
 * Suspended: the clock stands still until the wake, which is progress.
 * The wake stores the time before it clears the flag, and the watchdog
 * reads them the other way round, so it never sees an old time awake.
 */
void watchdog_asleep(bool sleeping)
{
	if (!sleeping)
		watchdog_progress();
	asleep = sleeping;
}

bool watchdog_fired(void)
{
	return fired;
}

struct reg_desc {
	const char	*name;
	uint64_t	id;
};

#define CORE(r)		{ #r, CORE_REG(regs.r) }
#define CSR(r)		{ #r, CSR_REG(r) }

static const struct reg_desc core_regs[] = {
	CORE(pc), CORE(ra), CORE(sp), CORE(a0), CORE(a1), CORE(a7),
};

static const struct reg_desc csr_regs[] = {
	CSR(sstatus), CSR(sie), CSR(sip), CSR(stvec),
	CSR(scause), CSR(stval), CSR(sepc), CSR(satp),
};

/* " name=0x..." for each register, "?" for one that cannot be read */
static void format_regs(struct vcpu *vcpu, const struct reg_desc *regs,
			int n, char *buf, size_t len)
{
	size_t used = 0;
	uint64_t val;

	buf[0] = '\0';
	for (int i = 0; i < n && used < len; i++) {
		if (get_reg(vcpu, regs[i].id, &val))
			used += snprintf(buf + used, len - used, " %s=?",
					 regs[i].name);
		else
			used += snprintf(buf + used, len - used, " %s=0x%lx",
					 regs[i].name, (unsigned long)val);
	}
}

static const char *mp_state_name(struct vcpu *vcpu)
{
	struct kvm_mp_state mp;

	if (ioctl(vcpu->fd, KVM_GET_MP_STATE, &mp))
		return "?";
	/* the only two RISC-V KVM reports: HSM stopped or not */
	switch (mp.mp_state) {
	case KVM_MP_STATE_RUNNABLE:	return "RUNNABLE";
	case KVM_MP_STATE_STOPPED:	return "STOPPED";
	default:			return "other";
	}
}

/* time and compare in ticks of the time CSR, decimal; "?" if unreadable */
static const char *timer_reg(struct vcpu *vcpu, uint64_t id, char *buf,
			     size_t len)
{
	uint64_t val;

	if (get_reg(vcpu, id, &val))
		return "?";
	snprintf(buf, len, "%lu", (unsigned long)val);
	return buf;
}

static const char *timer_state(struct vcpu *vcpu)
{
	uint64_t val;

	if (get_reg(vcpu, TIMER_REG(state), &val))
		return "?";
	return val == KVM_RISCV_TIMER_STATE_ON ? "on" : "off";
}

/* " name=0x..." for one IMSIC register, "?" if it cannot be read */
static size_t format_isel(struct vcpu *vcpu, const char *name,
			  unsigned int isel, char *buf, size_t len)
{
	unsigned long val;

	if (aia_imsic_get(vcpu, isel, &val))
		return snprintf(buf, len, " %s=?", name);
	return snprintf(buf, len, " %s=0x%lx", name, val);
}

/*
 * How the file delivers, and every identity's pending and enable bit: an
 * interrupt the guest keeps taking with nothing pending here did not come
 * from this file.
 */
static void format_imsic(struct vcpu *vcpu, char *buf, size_t len)
{
	/* RV64 has only the even eipN/eieN, 64 identities each */
	unsigned int words = (vcpu->vm->aia.nr_ids + 1 + 63) / 64;
	size_t used = 0;
	char name[16];

	used += format_isel(vcpu, "eidelivery", 0x70, buf, len);
	used += format_isel(vcpu, "eithreshold", 0x72, buf + used, len - used);
	for (unsigned int w = 0; w < words && used < len; w++) {
		snprintf(name, sizeof(name), "eip%u", 2 * w);
		used += format_isel(vcpu, name, 0x80 + 2 * w, buf + used,
				    len - used);
	}
	for (unsigned int w = 0; w < words && used < len; w++) {
		snprintf(name, sizeof(name), "eie%u", 2 * w);
		used += format_isel(vcpu, name, 0xc0 + 2 * w, buf + used,
				    len - used);
	}
}

/* From a vCPU thread whose KVM_RUN the watchdog interrupted */
void watchdog_sample(struct vcpu *vcpu)
{
	int k = atomic_exchange(&sample_wanted[vcpu->id], 0) - 1;
	struct sample *s;

	if (k < 0)
		return;
	s = &samples[vcpu->id][k];
	s->taken = !get_reg(vcpu, CORE_REG(regs.pc), &s->pc) &&
		   !get_reg(vcpu, CSR_REG(scause), &s->scause) &&
		   !get_reg(vcpu, CSR_REG(sstatus), &s->sstatus);
}

/* " pc/scause/sstatus" per sample, "-" for one the vCPU did not take */
static void format_samples(struct vcpu *vcpu, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int k = 0; k < NR_SAMPLES && used < len; k++) {
		const struct sample *s = &samples[vcpu->id][k];

		if (s->taken)
			used += snprintf(buf + used, len - used, " %lx/%lx/%lx",
					 (unsigned long)s->pc,
					 (unsigned long)s->scause,
					 (unsigned long)s->sstatus);
		else
			used += snprintf(buf + used, len - used, " -");
	}
}

/*
 * KVM's counters for the VM, summed over its vCPUs, from the test host's
 * debugfs (kvm/PID-FD/NAME; 0 entries without debugfs): whether the exits
 * count while a vCPU loops tells a guest that KVM keeps trapping from one
 * that loops in itself.
 */
#define MAX_STATS	64

struct vm_stats {
	int		n;
	char		name[MAX_STATS][32];
	unsigned long	val[MAX_STATS];
};

static struct vm_stats stats_before;

static void read_vm_stats(struct vm_stats *st)
{
	char pattern[64];
	glob_t g;

	st->n = 0;
	snprintf(pattern, sizeof(pattern), "/sys/kernel/debug/kvm/%d-*/*",
		 (int)getpid());
	if (glob(pattern, 0, NULL, &g))
		return;
	for (size_t i = 0; i < g.gl_pathc && st->n < MAX_STATS; i++) {
		FILE *f = fopen(g.gl_pathv[i], "r");

		if (!f)
			continue;	/* a vcpuN directory opens, reads nothing */
		if (fscanf(f, "%lu", &st->val[st->n]) == 1) {
			snprintf(st->name[st->n], sizeof(st->name[0]), "%s",
				 strrchr(g.gl_pathv[i], '/') + 1);
			st->n++;
		}
		fclose(f);
	}
	globfree(&g);
}

/* " name +delta" for each counter that moved since stats_before */
static void format_stats_delta(char *buf, size_t len)
{
	struct vm_stats now_st;
	size_t used = 0;

	buf[0] = '\0';
	read_vm_stats(&now_st);
	for (int i = 0; i < now_st.n && used < len; i++) {
		for (int j = 0; j < stats_before.n; j++) {
			if (strcmp(now_st.name[i], stats_before.name[j]) ||
			    now_st.val[i] == stats_before.val[j])
				continue;
			used += snprintf(buf + used, len - used, " %s +%lu",
					 now_st.name[i],
					 now_st.val[i] - stats_before.val[j]);
		}
	}
	if (!now_st.n)
		snprintf(buf, len, " none readable");
	else if (!used)
		snprintf(buf, len, " none moved");
}

static void take_samples(struct vm_state *vm)
{
	char buf[1024];

	read_vm_stats(&stats_before);
	for (int k = 0; k < NR_SAMPLES; k++) {
		for (int i = 0; i < vm->opt->smp; i++) {
			sample_wanted[i] = k + 1;
			pthread_kill(vm->vcpus[i].thread, SIGUSR2);
		}
		usleep(SAMPLE_GAP_MS * 1000);
	}
	format_stats_delta(buf, sizeof(buf));
	vmm_log("watchdog: KVM counters of the VM over the %d ms of samples:%s",
		NR_SAMPLES * SAMPLE_GAP_MS, buf);
}

/* called by each vCPU thread as it leaves, so exactly once per vCPU */
void watchdog_dump(struct vcpu *vcpu)
{
	bool has_aia = vcpu->vm->aia.nr_ids;
	char core[256], csr[512], imsic[512], samples_buf[512], b1[24], b2[24];
	const char *mp, *ticks, *compare, *state;

	if (!fired)
		return;

	/* read everything first: the lock is only for the output */
	mp = mp_state_name(vcpu);
	format_regs(vcpu, core_regs, ARRAY_SIZE(core_regs), core, sizeof(core));
	format_regs(vcpu, csr_regs, ARRAY_SIZE(csr_regs), csr, sizeof(csr));
	ticks = timer_reg(vcpu, TIMER_REG(time), b1, sizeof(b1));
	compare = timer_reg(vcpu, TIMER_REG(compare), b2, sizeof(b2));
	state = timer_state(vcpu);
	if (has_aia)
		format_imsic(vcpu, imsic, sizeof(imsic));
	format_samples(vcpu, samples_buf, sizeof(samples_buf));

	pthread_mutex_lock(&dump_lock);
	vmm_log("watchdog: vcpu%d mp_state=%s%s", vcpu->id, mp, core);
	vmm_log("watchdog: vcpu%d%s", vcpu->id, csr);
	vmm_log("watchdog: vcpu%d timer time=%s compare=%s state=%s",
		vcpu->id, ticks, compare, state);
	if (has_aia)
		vmm_log("watchdog: vcpu%d imsic%s", vcpu->id, imsic);
	vmm_log("watchdog: vcpu%d pc/scause/sstatus every %d ms before:%s",
		vcpu->id, SAMPLE_GAP_MS, samples_buf);
	nr_dumped++;
	pthread_mutex_unlock(&dump_lock);
}

static void *watchdog_thread(void *arg)
{
	struct vm_state *vm = arg;
	long timeout_s = vm->opt->watchdog;

	for (;;) {
		sleep(1);
		if (vm->stopping)
			return NULL;
		if (asleep)
			continue;
		if (now() * 1000 - progress_ms < timeout_s * 1000)
			continue;

		/*
		 * Under stop_lock, so that the line comes before any dump: a
		 * vCPU thread only leaves once stopping is set.
		 */
		pthread_mutex_lock(&vm->stop_lock);
		fired = !vm->stopping;
		if (fired)
			vmm_log("watchdog: no guest progress for %ld s; vCPU state follows",
				timeout_s);
		pthread_mutex_unlock(&vm->stop_lock);
		if (!fired)
			return NULL;	/* a shutdown came first */
		take_samples(vm);
		stop_all(vm, EXIT_FAIL);
		break;
	}

	/*
	 * A vCPU thread that does not come out of KVM_RUN cannot dump
	 * itself, and the VMM would hang in pthread_join(): say so and go.
	 */
	sleep(DUMP_GRACE_S);
	pthread_mutex_lock(&dump_lock);
	vmm_log("watchdog: %d of %d vCPU thread(s) came out of KVM_RUN within %d s; exit status %d",
		nr_dumped, vm->opt->smp, DUMP_GRACE_S, EXIT_FAIL);
	exit(EXIT_FAIL);
}

void watchdog_start(struct vm_state *vm)
{
	pthread_t thread;

	if (!vm->opt->watchdog)
		return;
	watchdog_progress();
	errno = pthread_create(&thread, NULL, watchdog_thread, vm);
	if (errno)
		die_errno("creating the watchdog thread");
	pthread_detach(thread);
}
