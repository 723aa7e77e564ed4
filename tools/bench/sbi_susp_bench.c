// SPDX-License-Identifier: GPL-2.0-only
/*
 * sbi_susp_bench - what an SBI system suspend costs a KVM RISC-V guest
 *
 * Built against the KVM selftest library of the kernel tree under test and
 * run on the test host by 'make bench' (scripts/check/bench.sh). Each figure is
 * measured next to its floor, in the same run and interleaved with it in
 * rounds, so that their ratio holds even where absolute times (nested TCG)
 * mean little:
 *
 *   suspend      a successful SYSTEM_SUSPEND that userspace answers at
 *                once: one KVM_RUN takes the guest from its resume_addr,
 *                where it calls again, to the next suspend exit
 *   exit-floor   the same loop with an SBI call that KVM forwards to
 *                userspace without looking at it: one exit, one KVM_RUN
 *   denied       a SYSTEM_SUSPEND that KVM refuses with SBI_ERR_DENIED
 *                because the last vCPU is not stopped; KVM answers it
 *                without leaving the kernel, so the guest times the ecall
 *   ecall-floor  the guest timing an SBI call KVM answers in the kernel
 *                (BASE get_spec_version)
 *
 * suspend and denied are taken for each vCPU count asked for (default 1,
 * 8, 64, 256 and KVM_CAP_MAX_VCPUS), with every vCPU but the caller
 * stopped, save denied's last one. Each figure is printed as one line,
 * and its floor, taken alongside, with the same vcpus=N, though the
 * floor's VM has one vCPU:
 *
 *   bench: figure=F vcpus=N samples=S median_ns=M p90_ns=P
 *
 * then the ratio to its floor, over the rounds (report_round_ratios()):
 *
 *   bench: ratio figure=F floor=G vcpus=N rounds=R median=X p10=Y p90=Z
 *
 * The suspend and exit-floor loops run with the MMU off, as a resume
 * enters the guest that way: they are register-only code that the vCPU
 * enters at its guest physical address.
 *
 * With -p FUNCTION, it profiles FUNCTION in the suspend loop of one vCPU
 * instead, with the function graph tracer (profile_suspends(), profile.c).
 * That needs a host kernel with CONFIG_FUNCTION_GRAPH_TRACER.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <time.h>
#include <sys/resource.h>

#include <linux/stringify.h>

#include "arch_timer.h"
#include "bench.h"
#include "kvm_util.h"
#include "processor.h"
#include "sbi.h"
#include "sbi_susp.h"
#include "test_util.h"
#include "ucall_common.h"

/* Immediates for the loops below, which are assembler code */
#define SUSP_EID		0x53555350
#define FORWARD_EID		0x08ffffff
#define FORWARD_FID_ANSWER	2	/* the floor's call */
#define FORWARD_FID_FAILED	3	/* a SYSTEM_SUSPEND returned */

static_assert(SUSP_EID == SBI_EXT_SUSP, "SUSP_EID");
static_assert(FORWARD_EID == KVM_RISCV_SELFTESTS_SBI_EXT, "FORWARD_EID");
/* past the fids of the library's own calls */
static_assert(FORWARD_FID_ANSWER == KVM_RISCV_SELFTESTS_SBI_UNEXP + 1, "fid");
static_assert(FORWARD_FID_FAILED == KVM_RISCV_SELFTESTS_SBI_UNEXP + 2, "fid");

void exit_floor_loop(void);

/*
 * suspend_loop resumes at itself: auipc gives the address it runs at, the
 * physical one. A call that returns fails, so it is reported to the host
 * with its error instead of spinning in the kernel.
 */
asm(".pushsection .text\n"
	".balign 4\n"
	".global suspend_loop\n"
	"suspend_loop:\n"
	"	auipc	a1, 0\n"
	"	li	a0, 0\n"
	"	li	a6, 0\n"
	"	li	a7, " __stringify(SUSP_EID) "\n"
	"	ecall\n"
	"	li	a6, " __stringify(FORWARD_FID_FAILED) "\n"
	"	li	a7, " __stringify(FORWARD_EID) "\n"
	"	ecall\n"
	"	j	suspend_loop\n"
	".global exit_floor_loop\n"
	"exit_floor_loop:\n"
	"	li	a6, " __stringify(FORWARD_FID_ANSWER) "\n"
	"	li	a7, " __stringify(FORWARD_EID) "\n"
	"	ecall\n"
	"	j	exit_floor_loop\n"
	".popsection\n");

static uint64_t guest_ticks[MAX_SAMPLES];

/* Time @nr_calls SBI calls, each in time CSR ticks, into guest_ticks[]. */
static void guest_time_calls(unsigned long ext, unsigned long fid,
			     unsigned long arg0, unsigned long arg1,
			     long expected_error, unsigned long nr_calls)
{
	struct sbiret ret;
	uint64_t start;
	unsigned long i;

	for (;;) {
		for (i = 0; i < nr_calls; i++) {
			start = timer_get_cycles();
			ret = sbi_ecall(ext, fid, arg0, arg1, 0, 0, 0, 0);
			guest_ticks[i] = timer_get_cycles() - start;
			GUEST_ASSERT_EQ(ret.error, expected_error);
		}
		GUEST_SYNC(nr_calls);
	}
}

struct series {
	const char *figure;
	unsigned int nr_vcpus;
	unsigned int nr_samples;
	uint64_t ns[MAX_SAMPLES];
};

static unsigned int nr_rounds = 100;
static unsigned int per_round = 20;

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t median_of(uint64_t *ns, unsigned int nr)
{
	uint64_t sorted[MAX_SAMPLES];

	memcpy(sorted, ns, nr * sizeof(*ns));
	qsort(sorted, nr, sizeof(*sorted), compare_u64);
	return sorted[nr / 2];
}

static void report(struct series *s)
{
	qsort(s->ns, s->nr_samples, sizeof(s->ns[0]), compare_u64);
	printf("bench: figure=%s vcpus=%u samples=%u median_ns=%lu p90_ns=%lu\n",
	       s->figure, s->nr_vcpus, s->nr_samples,
	       s->ns[s->nr_samples / 2], s->ns[s->nr_samples * 9 / 10]);
}

/*
 * The ratio of @s's median to @floor's, round by round, and its median
 * over the rounds: rounds are short, so that a change of pace of the
 * emulator (which comes and goes over seconds) weighs on both sides of a
 * ratio alike. Call before report(), which sorts the samples out of their
 * rounds.
 */
static void report_round_ratios(struct series *s, struct series *floor)
{
	uint64_t ratio[MAX_SAMPLES];	/* in thousandths */
	unsigned int round;

	for (round = 0; round < nr_rounds; round++) {
		unsigned int first = round * per_round;

		ratio[round] = median_of(s->ns + first, per_round) * 1000 /
			       median_of(floor->ns + first, per_round);
	}
	qsort(ratio, nr_rounds, sizeof(ratio[0]), compare_u64);
	printf("bench: ratio figure=%s floor=%s vcpus=%u rounds=%u median=%.3f p10=%.3f p90=%.3f\n",
	       s->figure, floor->figure, s->nr_vcpus, nr_rounds,
	       ratio[nr_rounds / 2] / 1000.0, ratio[nr_rounds / 10] / 1000.0,
	       ratio[nr_rounds * 9 / 10] / 1000.0);
}

/* One KVM_RUN that must end in an SBI exit for @ext, answered at once. */
uint64_t timed_run_to_sbi_exit(struct kvm_vcpu *vcpu, unsigned long ext,
			       unsigned long fid)
{
	struct kvm_run *run = vcpu->run;
	struct timespec start;
	uint64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &start);
	vcpu_run(vcpu);
	ns = timespec_to_ns(timespec_elapsed(start));

	if (run->exit_reason != KVM_EXIT_RISCV_SBI ||
	    run->riscv_sbi.extension_id != ext ||
	    run->riscv_sbi.function_id != fid)
		report_unexpected_exit(vcpu);
	run->riscv_sbi.ret[0] = SBI_SUCCESS;
	run->riscv_sbi.ret[1] = 0;

	return ns;
}

/* Enter @loop at its guest physical address with the MMU off. */
void enter_with_mmu_off(struct kvm_vcpu *vcpu, void (*loop)(void))
{
	vcpu_set_reg(vcpu, RISCV_GENERAL_CSR_REG(satp), 0);
	vcpu_set_reg(vcpu, RISCV_CORE_REG(regs.pc),
		     addr_gva2gpa(vcpu->vm, (vm_vaddr_t)loop));
}

static void set_stopped(struct kvm_vcpu *vcpu)
{
	struct kvm_mp_state mps = { .mp_state = KVM_MP_STATE_STOPPED };

	vcpu_mp_state_set(vcpu, &mps);
}

/*
 * A VM of @nr_vcpus whose vCPU 0 calls and whose other vCPUs are stopped
 * but for the last one when @last_runs: it is then runnable, never run,
 * and the other vCPUs' scan reaches it last.
 */
struct kvm_vm *create_caller_vm(unsigned int nr_vcpus, void *guest_code,
				bool last_runs, struct kvm_vcpu **caller)
{
	struct kvm_vcpu **vcpus = calloc(nr_vcpus, sizeof(*vcpus));
	struct kvm_vm *vm;
	unsigned int i;

	TEST_ASSERT(vcpus, "calloc");
	vm = vm_create_with_vcpus(nr_vcpus, guest_code, vcpus);
	for (i = 1; i < nr_vcpus; i++) {
		if (!(last_runs && i == nr_vcpus - 1))
			set_stopped(vcpus[i]);
	}
	*caller = vcpus[0];
	free(vcpus);
	if (!vcpu_has_sbi_susp(*caller))
		ksft_exit_skip("host kernel lacks SBI SUSP\n");
	vcpu_enable_sbi_susp(*caller);

	return vm;
}

/*
 * suspend against exit-floor, interleaved round by round; both loops are
 * run a round's worth first, so that neither is timed cold.
 */
static void bench_suspend(unsigned int nr_vcpus, struct kvm_vcpu *floor_vcpu)
{
	static struct series suspend, floor;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	unsigned int round, i;

	suspend = (struct series){ .figure = "suspend", .nr_vcpus = nr_vcpus };
	floor = (struct series){ .figure = "exit-floor", .nr_vcpus = nr_vcpus };

	vm = create_caller_vm(nr_vcpus, NULL, false, &vcpu);
	enter_with_mmu_off(vcpu, suspend_loop);

	for (round = 0; round <= nr_rounds; round++) {
		for (i = 0; i < per_round; i++) {
			uint64_t ns = timed_run_to_sbi_exit(vcpu, SBI_EXT_SUSP,
							    SBI_EXT_SUSP_SYSTEM_SUSPEND);

			if (round)
				suspend.ns[suspend.nr_samples++] = ns;
		}
		for (i = 0; i < per_round; i++) {
			uint64_t ns = timed_run_to_sbi_exit(floor_vcpu, FORWARD_EID,
							    FORWARD_FID_ANSWER);

			if (round)
				floor.ns[floor.nr_samples++] = ns;
		}
	}
	kvm_vm_free(vm);

	report_round_ratios(&suspend, &floor);
	report(&floor);
	report(&suspend);
}

/* Run @vcpu through one round of guest_time_calls(), into @s in ns. */
static void collect_guest_round(struct kvm_vcpu *vcpu, struct series *s,
				bool keep)
{
	struct ucall uc;
	unsigned int i;

	vcpu_run(vcpu);
	if (get_ucall(vcpu, &uc) != UCALL_SYNC)
		report_unexpected_exit(vcpu);
	if (!keep)
		return;

	sync_global_from_guest(vcpu->vm, guest_ticks);
	for (i = 0; i < per_round; i++)
		s->ns[s->nr_samples++] = guest_ticks[i] * 1000000000ULL / timer_freq;
}

/* denied against ecall-floor, interleaved round by round */
static void bench_denied(unsigned int nr_vcpus, struct kvm_vcpu *floor_vcpu)
{
	static struct series denied, floor;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	unsigned int round;

	denied = (struct series){ .figure = "denied", .nr_vcpus = nr_vcpus };
	floor = (struct series){ .figure = "ecall-floor", .nr_vcpus = nr_vcpus };

	vm = create_caller_vm(nr_vcpus, guest_time_calls, true, &vcpu);
	vcpu_args_set(vcpu, 6, SBI_EXT_SUSP, SBI_EXT_SUSP_SYSTEM_SUSPEND,
		      SBI_SUSP_SLEEP_TYPE_SUSPEND_TO_RAM,
		      addr_gva2gpa(vm, (vm_vaddr_t)suspend_loop),
		      SBI_ERR_DENIED, per_round);

	for (round = 0; round <= nr_rounds; round++) {
		collect_guest_round(vcpu, &denied, round);
		collect_guest_round(floor_vcpu, &floor, round);
	}
	kvm_vm_free(vm);

	report_round_ratios(&denied, &floor);
	report(&floor);
	report(&denied);
}

/* Each vCPU is a file descriptor: room for the most vCPUs, and the floors */
static void allow_fds(unsigned int nr_fds)
{
	struct rlimit rl;

	TEST_ASSERT(!getrlimit(RLIMIT_NOFILE, &rl), "getrlimit");
	if (rl.rlim_cur >= nr_fds)
		return;
	rl.rlim_cur = nr_fds;
	if (rl.rlim_max < nr_fds)
		rl.rlim_max = nr_fds;
	TEST_ASSERT(!setrlimit(RLIMIT_NOFILE, &rl), "setrlimit to %u", nr_fds);
}

static void usage(const char *name)
{
	printf("usage: %s [-r ROUNDS] [-n SAMPLES_PER_ROUND] [-v VCPUS,...]\n"
	       "       %s -p FUNCTION [-n SUSPENDS]\n"
	       "  -r  rounds of each figure against its floor (%u)\n"
	       "  -n  samples of each figure per round (%u), or suspends profiled\n"
	       "  -v  vCPU counts, 'max' for KVM_CAP_MAX_VCPUS (1,8,64,256,max)\n"
	       "  -p  profile FUNCTION and its callees in suspends' round trips\n",
	       name, name, nr_rounds, per_round);
	exit(KSFT_FAIL);
}

int main(int argc, char *argv[])
{
	unsigned int max_vcpus = kvm_check_cap(KVM_CAP_MAX_VCPUS);
	struct kvm_vcpu *exit_floor, *ecall_floor;
	struct kvm_vm *exit_floor_vm, *ecall_floor_vm;
	char *counts = strdup("1,8,64,256,max");
	const char *profile_root = NULL;
	char *count, *rest;
	int opt;

	while ((opt = getopt(argc, argv, "r:n:v:p:h")) != -1) {
		switch (opt) {
		case 'p':
			profile_root = optarg;
			break;
		case 'r':
			nr_rounds = atoi_positive("rounds", optarg);
			break;
		case 'n':
			per_round = atoi_positive("samples per round", optarg);
			break;
		case 'v':
			free(counts);
			counts = strdup(optarg);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (profile_root) {
		profile_suspends(profile_root, per_round);
		return 0;
	}

	TEST_ASSERT(nr_rounds * per_round <= MAX_SAMPLES,
		    "at most %u samples of a figure", MAX_SAMPLES);
	allow_fds(max_vcpus + 64);

	exit_floor_vm = vm_create_with_one_vcpu(&exit_floor, NULL);
	enter_with_mmu_off(exit_floor, exit_floor_loop);

	ecall_floor_vm = vm_create_with_one_vcpu(&ecall_floor, guest_time_calls);
	vcpu_args_set(ecall_floor, 6, SBI_EXT_BASE,
		      SBI_EXT_BASE_GET_SPEC_VERSION, 0, 0, SBI_SUCCESS,
		      per_round);
	vcpu_get_reg(ecall_floor, RISCV_TIMER_REG(frequency), &timer_freq);

	printf("bench: %u rounds of %u samples per figure, KVM_CAP_MAX_VCPUS %u, timebase %lu Hz\n",
	       nr_rounds, per_round, max_vcpus, timer_freq);

	for (count = strtok_r(counts, ",", &rest); count;
	     count = strtok_r(NULL, ",", &rest)) {
		unsigned int nr_vcpus = strcmp(count, "max") ?
					atoi_positive("vCPUs", count) : max_vcpus;
		struct timespec start;

		TEST_ASSERT(nr_vcpus <= max_vcpus, "%u vCPUs: at most %u",
			    nr_vcpus, max_vcpus);
		clock_gettime(CLOCK_MONOTONIC, &start);
		bench_suspend(nr_vcpus, exit_floor);
		/* with one vCPU there is no other to be running */
		if (nr_vcpus > 1)
			bench_denied(nr_vcpus, ecall_floor);
		printf("bench: %u vCPUs took %.1f s\n", nr_vcpus,
		       timespec_to_ns(timespec_elapsed(start)) / 1e9);
	}

	kvm_vm_free(ecall_floor_vm);
	kvm_vm_free(exit_floor_vm);
	free(counts);

	return 0;
}
