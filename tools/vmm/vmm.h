/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmm - a minimal KVM RISC-V VMM that boots a Linux guest and honours the
 * SBI System Suspend (SUSP) extension: the guest suspends to RAM, the VMM
 * waits for a wake event, and the guest resumes where it asked to.
 *
 * The guest has RAM, N harts, an SBI console and, where KVM offers it, the
 * in-kernel AIA (an IMSIC per hart and an APLIC); no devices, no MMIO the
 * VMM has to emulate. HSM, IPI, RFENCE, TIME and SRST are handled by KVM
 * itself; only the console, SUSP and anything unknown reach us.
 *
 * One file per concern. Each gets the VM it works on as a parameter (a
 * vCPU has a pointer to its VM, as kvmtool's kvm_cpu has): no file but
 * main.c sees the options or the VM as globals, and none uses main.c.
 * No file calls one that calls it back, however indirectly: each can be
 * read with vmm.h and the files below it.
 *   main.c     options, the boot vCPU, the vCPU threads, the summary
 *   util.c     messages and guest console output in one stream, die();
 *              libc only
 *   aia.c      the in-kernel AIA device
 *   fdt.c      the device tree the guest boots with
 *   load.c     loading the kernel Image and initrd
 *   run.c      the vCPU threads and the SBI exits but SUSP
 *   vm.c       creating the VM and its vCPUs, pausing and stopping the
 *              vCPU threads (a kick out of KVM_RUN)
 *   suspend.c  SBI system suspend: waiting for a wake event, resuming
 *   snapshot.c --save-restore: the suspended VM saved and restored into a
 *              new one before it resumes
 *   bench.c    --bench: suspend and resume latencies, host CPU time asleep
 *   watchdog.c --watchdog: a guest that stops making progress fails the run
 *              with the state of every vCPU
 *
 * See Documentation/vmm-guide.md for the contract between KVM and a VMM.
 */
#ifndef VMM_H
#define VMM_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#ifndef KVM_RISCV_SBI_EXT_SUSP
/*
 * Only when built against headers without the SUSP series: 11 is the ABI
 * value (appended after KVM_RISCV_SBI_EXT_STA = 10), upstream and here.
 */
#define KVM_RISCV_SBI_EXT_SUSP		11
#endif

#define RAM_BASE			0x80000000UL
#define SZ_2M				0x200000UL

/* SBI extension IDs and error codes, from the SBI specification */
#define SBI_EXT_0_1_CONSOLE_PUTCHAR	0x01
#define SBI_EXT_0_1_CONSOLE_GETCHAR	0x02
#define SBI_EXT_DBCN			0x4442434E
#define SBI_EXT_DBCN_WRITE		0
#define SBI_EXT_DBCN_READ		1
#define SBI_EXT_DBCN_WRITE_BYTE		2
#define SBI_EXT_SUSP			0x53555350
#define SBI_EXT_SUSP_SYSTEM_SUSPEND	0

#define SBI_SUCCESS			0
#define SBI_ERR_FAILURE			-1
#define SBI_ERR_NOT_SUPPORTED		-2
#define SBI_ERR_INVALID_PARAM		-3
#define SBI_ERR_DENIED			-4

/* exit statuses, as the test harness reads them */
#define EXIT_PASS			0
#define EXIT_FAIL			1
#define EXIT_USAGE			2
#define EXIT_MISMATCH			3
#define EXIT_SKIP			4

#define MAX_VCPUS			8

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct vm_state;

struct vcpu {
	int			id;
	int			fd;
	struct kvm_run		*run;
	pthread_t		thread;
	struct vm_state		*vm;
};

struct options {
	const char	*kernel;
	const char	*initrd;
	const char	*append;
	int		smp;
	unsigned long	mem_mib;
	long		wake_after_ms;
	long		expect_suspends;	/* -1: don't check */
	long		deny_suspend;		/* 0, or the SBI error to return */
	long		log_every;		/* suspend lines: first + every Nth; 0 none */
	bool		no_susp;
	bool		no_aia;
	bool		bench;			/* bench-vmm: line per suspend */
	bool		save_restore;		/* each suspend into a new VM */
	long		watchdog;		/* s without progress; 0 off */
	int		aia_mode;		/* -1: KVM's default */
};

/*
 * aia.c: where the in-kernel AIA sits in guest physical memory, for the
 * device tree; nr_ids == 0 means the guest has no AIA.
 */
struct aia_layout {
	uint64_t	imsic_base;	/* vCPU i's IMSIC page: base + i * 4 KiB */
	uint64_t	aplic_base;
	uint64_t	aplic_size;
	uint32_t	nr_ids;		/* interrupt identities per IMSIC */
	uint32_t	nr_sources;	/* APLIC wired sources */
};

struct vm_state {
	const struct options *opt;	/* what the VM was built with */
	int		kvm_fd;
	int		vm_fd;
	void		*ram;
	size_t		ram_size;
	size_t		run_size;
	uint64_t	timebase;	/* Hz of the time CSR, as in the DT */
	struct vcpu	vcpus[MAX_VCPUS];

	struct aia_layout aia;		/* aia.c */
	int		aia_fd;		/* aia.c: the device, if aia.nr_ids */

	/*
	 * vm.c: stop_all() sets stopping and exit_status under stop_lock;
	 * vm_pause() and vm_continue() set pausing under it too, and the
	 * vCPU threads it holds out of KVM_RUN count themselves in nr_parked
	 */
	pthread_mutex_t	stop_lock;
	volatile bool	stopping;
	int		exit_status;
	pthread_cond_t	pause_cond;
	bool		pausing;
	int		nr_parked;

	double		t_first_run;	/* run.c: now() as vcpu0 first entered KVM_RUN */
};

/*
 * util.c: messages, in the order things happened. It knows no VM, so that
 * every other file can use it.
 */
void now_init(void);
double now(void);
void vmm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* a line without vmm_log()'s prefix, for parsers */
void vmm_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void console_write(const void *buf, size_t len,
		   void (*tap)(const char *buf, size_t len));
void die(int status, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
/* perror() with the context of what we were trying to do */
#define die_errno(fmt, ...) \
	die(EXIT_FAIL, fmt ": %s", ##__VA_ARGS__, strerror(errno))

/* ONE_REG */
#ifndef KVM_REG_SIZE
#define KVM_REG_SIZE(id) \
	(1UL << (((id) & KVM_REG_SIZE_MASK) >> KVM_REG_SIZE_SHIFT))
#endif
#define RISCV_REG(type, idx)	(KVM_REG_RISCV | KVM_REG_SIZE_U64 | (type) | (idx))
#define CORE_REG(name)		RISCV_REG(KVM_REG_RISCV_CORE, KVM_REG_RISCV_CORE_REG(name))
#define CONFIG_REG(name)	RISCV_REG(KVM_REG_RISCV_CONFIG, KVM_REG_RISCV_CONFIG_REG(name))
#define CSR_REG(name)		RISCV_REG(KVM_REG_RISCV_CSR | KVM_REG_RISCV_CSR_GENERAL, \
					  KVM_REG_RISCV_CSR_REG(name))
#define TIMER_REG(name)		RISCV_REG(KVM_REG_RISCV_TIMER, KVM_REG_RISCV_TIMER_REG(name))
#define ISA_EXT_REG(ext)	RISCV_REG(KVM_REG_RISCV_ISA_EXT | KVM_REG_RISCV_ISA_SINGLE, ext)
#define SBI_EXT_REG(ext)	RISCV_REG(KVM_REG_RISCV_SBI_EXT | KVM_REG_RISCV_SBI_SINGLE, ext)

static inline int get_reg(struct vcpu *vcpu, uint64_t id, uint64_t *val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uintptr_t)val };

	return ioctl(vcpu->fd, KVM_GET_ONE_REG, &reg);
}

static inline int set_reg(struct vcpu *vcpu, uint64_t id, uint64_t val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uintptr_t)&val };

	return ioctl(vcpu->fd, KVM_SET_ONE_REG, &reg);
}

/* aia.c: fills vm->aia, or leaves it zero where the host has no AIA */
void aia_create(struct vm_state *vm);
/* one register of @vcpu's IMSIC file, by its iselect number */
int aia_imsic_get(struct vcpu *vcpu, unsigned int isel, unsigned long *val);

/* fdt.c */
struct cpu_desc {
	char		isa[1024];
	const char	*mmu;
	uint64_t	timebase;
	uint64_t	cbom_block, cboz_block;
};
void describe_cpu(struct vcpu *vcpu, struct cpu_desc *d);
size_t build_fdt(const struct vm_state *vm, void *out, size_t max,
		 const struct cpu_desc *cpu, uint64_t initrd_start,
		 uint64_t initrd_end);

/* load.c */
void *gpa_to_hva(const struct vm_state *vm, uint64_t gpa, uint64_t len);
uint64_t load_guest(struct vm_state *vm, struct vcpu *boot, uint64_t *dtb_gpa);

/* run.c */
void *vcpu_thread(void *arg);

/* suspend.c */
void handle_susp(struct vcpu *vcpu);
int suspend_summary(const struct vm_state *vm, int status);

/* snapshot.c */
void save_restore(struct vcpu *vcpu, bool log);
unsigned long save_restore_count(void);

/* bench.c */
void bench_console(const char *buf, size_t len);
void bench_exit(struct vcpu *vcpu, double t);
void bench_resume(struct vcpu *vcpu, unsigned long cycle);

/* vm.c: under run.c, watchdog.c and snapshot.c, which stop or pause the VM */
void vm_create(struct vm_state *vm);
/* a new VM with @ram, destroying the old one, whose vCPUs are paused */
void vm_recreate(struct vm_state *vm, void *ram);
void kick_handler(int sig);
void stop_all(struct vm_state *vm, int status);
bool vm_pause(struct vcpu *self);
void vm_continue(struct vcpu *self);
void vm_park(struct vcpu *vcpu);

/* watchdog.c: what counts as guest progress; each vCPU dumps itself */
void watchdog_start(struct vm_state *vm);
void watchdog_progress(void);
void watchdog_asleep(bool asleep);
void watchdog_dump(struct vcpu *vcpu);
void watchdog_sample(struct vcpu *vcpu);
bool watchdog_fired(void);

#endif /* VMM_H */
