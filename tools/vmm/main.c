// SPDX-License-Identifier: GPL-2.0
/*
 * vmm: options, the boot vCPU's entry, the vCPU threads and the final
 * summary. See vmm.h for the map of the other files.
 */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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
	.pause_cond	= PTHREAD_COND_INITIALIZER,
	.exit_status	= EXIT_FAIL,	/* until stop_all() says otherwise */
};

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
"  --log-every N           log the suspend, wake, save-restore and resume lines\n"
"                          of the first suspend and of every Nth (default 1:\n"
"                          all; 0: none); the summary is always printed\n"
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
"  --save-restore          at each suspend, after the wake event: save every\n"
"                          vCPU and the RAM, and resume the guest in a new VM\n"
"                          (needs the series' hardening; no in-kernel AIA:\n"
"                          --no-aia where the host has AIA)\n"
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
		{ "save-restore",	no_argument,	   NULL, 'S' },
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
		case 'S': opt->save_restore = true; break;
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

	vm_create(&vm);
	/* only the host can say whether the guest gets the in-kernel AIA */
	if (opt.save_restore && vm.aia.nr_ids)
		die(EXIT_USAGE, "--save-restore cannot save the in-kernel AIA's state (APLIC, IMSICs), which this host gives the guest: add --no-aia");

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
