// SPDX-License-Identifier: GPL-2.0
/*
 * vmm: options, VM and vCPU setup and the final summary. See vmm.h for
 * the map of the other files.
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include "vmm.h"

/*
 * Only main() uses these two by name: every other function gets the VM,
 * and through it the options, as a parameter.
 */
static struct options opt = {
	.append		= "console=hvc0 earlycon=sbi",
	.smp		= 1,
	.mem_mib	= 256,
	.wake_after_ms	= 1000,
	.expect_suspends = -1,
	.log_every	= 1,
	.aia_mode	= -1,
};

static struct vm_state vm = {
	.opt		= &opt,
	.stop_lock	= PTHREAD_MUTEX_INITIALIZER,
	.exit_status	= EXIT_FAIL,	/* until stop_all() says otherwise */
};

static void create_vm(struct vm_state *vm)
{
	const struct options *opt = vm->opt;
	struct kvm_userspace_memory_region region;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		fprintf(stderr, "vmm: cannot open /dev/kvm: %s (no KVM on this host, skipping)\n",
			strerror(errno));
		exit(EXIT_SKIP);
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		die_errno("KVM_CREATE_VM");

	vm->ram_size = opt->mem_mib << 20;
	vm->ram = mmap(NULL, vm->ram_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED)
		die_errno("mapping %lu MiB of guest RAM", opt->mem_mib);

	region = (struct kvm_userspace_memory_region) {
		.slot = 0,
		.guest_phys_addr = RAM_BASE,
		.memory_size = vm->ram_size,
		.userspace_addr = (uintptr_t)vm->ram,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region))
		die_errno("KVM_SET_USER_MEMORY_REGION(slot 0 at 0x%lx)", RAM_BASE);

	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if ((long)vm->run_size <= 0)
		die_errno("KVM_GET_VCPU_MMAP_SIZE");
}

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

static void __attribute__((noreturn)) usage(const char *fmt, ...)
{
	if (fmt) {
		va_list ap;

		fputs("vmm: ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fputs(
"usage: vmm --kernel IMAGE [options]\n"
"  --kernel IMAGE          RISC-V Linux Image to boot (required)\n"
"  --initrd CPIO           initramfs to pass to the guest\n"
"  --append \"CMDLINE\"      guest command line (default: console=hvc0 earlycon=sbi)\n"
"  --smp N                 number of vCPUs, 1..8 (default 1)\n"
"  --mem MiB               guest RAM in MiB (default 256)\n"
"  --wake-after MS         wake a suspended guest after MS ms (default 1000);\n"
"                          0 waits for SIGUSR1 only (SIGUSR1 also wakes early)\n"
"  --expect-suspends N     exit 3 if the guest did not suspend exactly N times\n"
"  --log-every N           log the suspend, wake and resume lines of the first\n"
"                          suspend and of every Nth (default 1: all; 0: none);\n"
"                          the summary is always printed\n"
"  --quiet                 same as --log-every 0\n"
"  --deny-suspend ERR      answer every suspend with SBI error ERR: -4 (DENIED)\n"
"                          and -1 (FAILURE) refuse it on a kernel with the\n"
"                          series' hardening\n"
"  --no-susp               don't enable SBI SUSP (debug)\n"
"  --no-aia                don't give the guest KVM's in-kernel AIA, even\n"
"                          where KVM offers it\n"
"  --aia-mode MODE         emul (KVM emulates the IMSICs), hwaccel (the\n"
"                          host's guest interrupt files) or auto (KVM's\n"
"                          default where the host has guest files)\n"
"  --bench                 print a bench-vmm: line at each resume: suspend\n"
"                          and resume times, host CPU time while suspended\n"
"                          (Documentation/vmm-guide.md)\n"
"  --watchdog SECONDS      fail (exit 1) after SECONDS without guest console\n"
"                          output, suspend or wake, and print every vCPU's\n"
"                          registers first; time suspended does not count\n"
"                          (default 0: off)\n"
"exit status: 0 guest shut down (and expectations met), 1 failure or guest\n"
"reset, 2 usage, 3 suspend count mismatch, 4 skip: no /dev/kvm or the host\n"
"KVM lacks SBI SUSP.\n", stderr);
	exit(EXIT_USAGE);
}

static long parse_num(const char *name, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || *end || end == s || v < min || v > max)
		usage("%s: bad value '%s' (want %ld..%ld)", name, s, min, max);
	return v;
}

static void parse_options(struct options *opt, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "kernel",		required_argument, NULL, 'k' },
		{ "initrd",		required_argument, NULL, 'i' },
		{ "append",		required_argument, NULL, 'a' },
		{ "smp",		required_argument, NULL, 's' },
		{ "mem",		required_argument, NULL, 'm' },
		{ "wake-after",		required_argument, NULL, 'w' },
		{ "expect-suspends",	required_argument, NULL, 'e' },
		{ "deny-suspend",	required_argument, NULL, 'd' },
		{ "log-every",		required_argument, NULL, 'L' },
		{ "quiet",		no_argument,	   NULL, 'q' },
		{ "no-susp",		no_argument,	   NULL, 'n' },
		{ "no-aia",		no_argument,	   NULL, 'A' },
		{ "aia-mode",		required_argument, NULL, 'M' },
		{ "bench",		no_argument,	   NULL, 'B' },
		{ "watchdog",		required_argument, NULL, 'W' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': opt->kernel = optarg; break;
		case 'i': opt->initrd = optarg; break;
		case 'a': opt->append = optarg; break;
		case 's': opt->smp = parse_num("--smp", optarg, 1, MAX_VCPUS); break;
		case 'm': opt->mem_mib = parse_num("--mem", optarg, 16, 4096); break;
		case 'w': opt->wake_after_ms = parse_num("--wake-after", optarg, 0, 3600000); break;
		case 'e': opt->expect_suspends = parse_num("--expect-suspends", optarg, 0, 1000000); break;
		case 'd': opt->deny_suspend = parse_num("--deny-suspend", optarg, -1000, -1); break;
		case 'L': opt->log_every = parse_num("--log-every", optarg, 0, 1000000); break;
		case 'q': opt->log_every = 0; break;
		case 'n': opt->no_susp = true; break;
		case 'A': opt->no_aia = true; break;
		case 'B': opt->bench = true; break;
		case 'W':
			opt->watchdog = parse_num("--watchdog", optarg, 0, 86400);
			break;
		case 'M':
			if (!strcmp(optarg, "emul"))
				opt->aia_mode = KVM_DEV_RISCV_AIA_MODE_EMUL;
			else if (!strcmp(optarg, "hwaccel"))
				opt->aia_mode = KVM_DEV_RISCV_AIA_MODE_HWACCEL;
			else if (!strcmp(optarg, "auto"))
				opt->aia_mode = KVM_DEV_RISCV_AIA_MODE_AUTO;
			else
				usage("--aia-mode: emul, hwaccel or auto, not '%s'", optarg);
			break;
		case 'h': usage(NULL);
		default:  usage(NULL);
		}
	}
	if (optind < argc)
		usage("unexpected argument '%s'", argv[optind]);
	if (!opt->kernel)
		usage("--kernel is required");
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	uint64_t entry, dtb_gpa;
	struct vcpu *boot;
	sigset_t set;
	int status;

	now_init();
	parse_options(&opt, argc, argv);

	/* no SA_RESTART: the point of SIGUSR2 is to break out of KVM_RUN */
	if (sigaction(SIGUSR2, &sa, NULL))
		die_errno("sigaction(SIGUSR2)");
	/* SIGUSR1 is collected synchronously by the suspending vCPU thread */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	create_vm(&vm);
	for (int i = 0; i < opt.smp; i++)
		create_vcpu(&vm, i);
	/* after the vCPUs: KVM gives each one an IMSIC */
	if (!opt.no_aia)
		aia_create(&vm);
	vmm_log("vm: SBI DBCN%s enabled on %d vcpu(s)",
		opt.no_susp ? "" : " and SUSP", opt.smp);

	boot = &vm.vcpus[0];
	entry = load_guest(&vm, boot, &dtb_gpa);
	if (set_reg(boot, CORE_REG(regs.pc), entry) ||
	    set_reg(boot, CORE_REG(regs.a0), 0) ||
	    set_reg(boot, CORE_REG(regs.a1), dtb_gpa))
		die_errno("setting boot registers of vcpu0");

	/* stop_all() signals every thread: let it wait until they all exist */
	pthread_mutex_lock(&vm.stop_lock);
	for (int i = 0; i < opt.smp; i++) {
		errno = pthread_create(&vm.vcpus[i].thread, NULL, vcpu_thread,
				       &vm.vcpus[i]);
		if (errno)
			die_errno("creating thread for vcpu%d", i);
	}
	pthread_mutex_unlock(&vm.stop_lock);
	watchdog_start(&vm);
	for (int i = 0; i < opt.smp; i++)
		pthread_join(vm.vcpus[i].thread, NULL);

	status = suspend_summary(&vm, vm.exit_status);
	if (watchdog_fired())
		vmm_log("summary: the watchdog fired: no guest progress for %ld s",
			opt.watchdog);
	vmm_log("exit status %d", status);
	return status;
}
