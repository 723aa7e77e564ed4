// SPDX-License-Identifier: GPL-2.0
/*
 * vmm - a minimal KVM RISC-V VMM that boots a Linux guest and honours the
 * SBI System Suspend (SUSP) extension: the guest suspends to RAM, the VMM
 * waits for a wake event, and the guest resumes where it asked to.
 *
 * The guest has RAM, N harts and an SBI console, nothing else: no PLIC, no
 * virtio, no MMIO at all.  HSM, IPI, RFENCE, TIME and SRST are handled by
 * KVM itself; only the console, SUSP and anything unknown reach us.
 *
 * See Documentation/vmm-guide.md for the contract between KVM and a VMM.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

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

struct vcpu {
	int			id;
	int			fd;
	struct kvm_run		*run;
	pthread_t		thread;
};

static struct {
	const char	*kernel;
	const char	*initrd;
	const char	*append;
	int		smp;
	unsigned long	mem_mib;
	long		wake_after_ms;
	long		expect_suspends;	/* -1: don't check */
	long		deny_suspend;		/* 0, or the SBI error to return */
	bool		no_susp;
} opt = {
	.append		= "console=hvc0 earlycon=sbi",
	.smp		= 1,
	.mem_mib	= 256,
	.wake_after_ms	= 1000,
	.expect_suspends = -1,
};

static struct {
	int		kvm_fd;
	int		vm_fd;
	void		*ram;
	size_t		ram_size;
	size_t		run_size;
	struct vcpu	vcpus[MAX_VCPUS];
} vm;

static struct timespec start_ts;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static bool out_mid_line;	/* guest console left a partial line */

static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile bool stopping;
static int exit_status = EXIT_FAIL;

static unsigned long nr_suspends, nr_denied;
static double t_first_run, t_first_suspend;
static double *round_trips;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec - start_ts.tv_sec) +
	       (ts.tv_nsec - start_ts.tv_nsec) / 1e9;
}

/*
 * VMM messages and guest console share stdout so that the order in the log
 * is the order in which things happened; start our lines on a fresh line.
 */
static void __attribute__((format(printf, 1, 2))) vmm_log(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	if (out_mid_line)
		fputc('\n', stdout);
	out_mid_line = false;
	printf("vmm: [%12.6f] ", now());
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static void console_out(const void *buf, size_t len)
{
	if (!len)
		return;
	pthread_mutex_lock(&out_lock);
	fwrite(buf, 1, len, stdout);
	fflush(stdout);
	out_mid_line = ((const char *)buf)[len - 1] != '\n';
	pthread_mutex_unlock(&out_lock);
}

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("vmm: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* perror() with the context of what we were trying to do */
#define die_errno(fmt, ...) \
	die(EXIT_FAIL, fmt ": %s", ##__VA_ARGS__, strerror(errno))

/* ---- ONE_REG helpers ------------------------------------------------- */

#define RISCV_REG(type, idx)	(KVM_REG_RISCV | KVM_REG_SIZE_U64 | (type) | (idx))
#define CORE_REG(name)		RISCV_REG(KVM_REG_RISCV_CORE, KVM_REG_RISCV_CORE_REG(name))
#define CONFIG_REG(name)	RISCV_REG(KVM_REG_RISCV_CONFIG, KVM_REG_RISCV_CONFIG_REG(name))
#define TIMER_REG(name)		RISCV_REG(KVM_REG_RISCV_TIMER, KVM_REG_RISCV_TIMER_REG(name))
#define ISA_EXT_REG(ext)	RISCV_REG(KVM_REG_RISCV_ISA_EXT | KVM_REG_RISCV_ISA_SINGLE, ext)
#define SBI_EXT_REG(ext)	RISCV_REG(KVM_REG_RISCV_SBI_EXT | KVM_REG_RISCV_SBI_SINGLE, ext)

static int get_reg(struct vcpu *vcpu, uint64_t id, uint64_t *val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uintptr_t)val };

	return ioctl(vcpu->fd, KVM_GET_ONE_REG, &reg);
}

static int set_reg(struct vcpu *vcpu, uint64_t id, uint64_t val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uintptr_t)&val };

	return ioctl(vcpu->fd, KVM_SET_ONE_REG, &reg);
}

/* ---- flattened device tree writer ------------------------------------ */

/*
 * The FDT is written here rather than compiled from a .dts with dtc at
 * build time, because most of it is only known at run time: the number of
 * harts (--smp), the RAM size (--mem), the ISA and MMU mode KVM offers on
 * this host, the timebase frequency, the command line and where the initrd
 * landed.  A generic .dts would need all of these patched in anyway.
 */
#define FDT_MAGIC	0xd00dfeed
#define FDT_BEGIN_NODE	1
#define FDT_END_NODE	2
#define FDT_PROP	3
#define FDT_END		9

struct fdt {
	char	*dt;	size_t dt_len;
	char	*str;	size_t str_len;
};

static void fdt_put(char **buf, size_t *len, const void *data, size_t n)
{
	*buf = realloc(*buf, *len + n + 4);
	if (!*buf)
		die(EXIT_FAIL, "out of memory building the device tree");
	memcpy(*buf + *len, data, n);
	*len += n;
}

/* the structure block is a sequence of big-endian 32-bit aligned tokens */
static void fdt_align(struct fdt *f)
{
	static const char zero[4];

	fdt_put(&f->dt, &f->dt_len, zero, -f->dt_len & 3);
}

static void fdt_u32(struct fdt *f, uint32_t v)
{
	v = __builtin_bswap32(v);
	fdt_put(&f->dt, &f->dt_len, &v, 4);
}

static uint32_t fdt_string(struct fdt *f, const char *s)
{
	size_t off = 0;

	while (off < f->str_len) {
		if (!strcmp(f->str + off, s))
			return off;
		off += strlen(f->str + off) + 1;
	}
	fdt_put(&f->str, &f->str_len, s, strlen(s) + 1);
	return off;
}

static void fdt_begin_node(struct fdt *f, const char *name)
{
	fdt_u32(f, FDT_BEGIN_NODE);
	fdt_put(&f->dt, &f->dt_len, name, strlen(name) + 1);
	fdt_align(f);
}

static void fdt_end_node(struct fdt *f)
{
	fdt_u32(f, FDT_END_NODE);
}

static void fdt_prop(struct fdt *f, const char *name, const void *val, size_t len)
{
	fdt_u32(f, FDT_PROP);
	fdt_u32(f, len);
	fdt_u32(f, fdt_string(f, name));
	fdt_put(&f->dt, &f->dt_len, val, len);
	fdt_align(f);
}

static void fdt_prop_str(struct fdt *f, const char *name, const char *s)
{
	fdt_prop(f, name, s, strlen(s) + 1);
}

static void fdt_prop_u32(struct fdt *f, const char *name, uint32_t v)
{
	v = __builtin_bswap32(v);
	fdt_prop(f, name, &v, 4);
}

static void fdt_prop_u64(struct fdt *f, const char *name, uint64_t v)
{
	v = __builtin_bswap64(v);
	fdt_prop(f, name, &v, 8);
}

/* reg = <addr size> with #address-cells = #size-cells = 2 */
static void fdt_prop_reg(struct fdt *f, uint64_t addr, uint64_t size)
{
	uint64_t reg[2] = { __builtin_bswap64(addr), __builtin_bswap64(size) };

	fdt_prop(f, "reg", reg, sizeof(reg));
}

/* lay header, empty reservation map, structure and strings into @out */
static size_t fdt_finish(struct fdt *f, void *out, size_t max)
{
	uint32_t hdr[10];
	uint32_t off_rsv = sizeof(hdr);
	uint32_t off_dt = off_rsv + 16;
	uint32_t off_str = off_dt + f->dt_len;
	uint32_t total = off_str + f->str_len;

	fdt_u32(f, FDT_END);
	off_str += 4;
	total += 4;
	if (total > max)
		die(EXIT_FAIL, "device tree too large (%u bytes)", total);

	hdr[0] = FDT_MAGIC;
	hdr[1] = total;
	hdr[2] = off_dt;
	hdr[3] = off_str;
	hdr[4] = off_rsv;
	hdr[5] = 17;		/* version */
	hdr[6] = 16;		/* last compatible version */
	hdr[7] = 0;		/* boot cpuid */
	hdr[8] = f->str_len;
	hdr[9] = f->dt_len;
	for (int i = 0; i < 10; i++)
		hdr[i] = __builtin_bswap32(hdr[i]);

	memset(out, 0, off_dt);
	memcpy(out, hdr, sizeof(hdr));
	memcpy((char *)out + off_dt, f->dt, f->dt_len);
	memcpy((char *)out + off_str, f->str, f->str_len);
	free(f->dt);
	free(f->str);
	return total;
}

/*
 * Multi-letter extensions by KVM ISA_EXT register number.  Anything KVM
 * knows and this table does not is left out of riscv,isa: the guest then
 * simply doesn't use it, which is safe.
 */
static const char *const isa_ext_names[] = {
	[KVM_RISCV_ISA_EXT_SVPBMT]	= "svpbmt",
	[KVM_RISCV_ISA_EXT_SSTC]	= "sstc",
	[KVM_RISCV_ISA_EXT_SVINVAL]	= "svinval",
	[KVM_RISCV_ISA_EXT_ZIHINTPAUSE]	= "zihintpause",
	[KVM_RISCV_ISA_EXT_ZICBOM]	= "zicbom",
	[KVM_RISCV_ISA_EXT_ZICBOZ]	= "zicboz",
	[KVM_RISCV_ISA_EXT_ZBB]		= "zbb",
	[KVM_RISCV_ISA_EXT_SSAIA]	= "ssaia",
	[KVM_RISCV_ISA_EXT_SVNAPOT]	= "svnapot",
	[KVM_RISCV_ISA_EXT_ZBA]		= "zba",
	[KVM_RISCV_ISA_EXT_ZBS]		= "zbs",
	[KVM_RISCV_ISA_EXT_ZICNTR]	= "zicntr",
	[KVM_RISCV_ISA_EXT_ZICSR]	= "zicsr",
	[KVM_RISCV_ISA_EXT_ZIFENCEI]	= "zifencei",
	[KVM_RISCV_ISA_EXT_ZIHPM]	= "zihpm",
	[KVM_RISCV_ISA_EXT_SMSTATEEN]	= "smstateen",
	[KVM_RISCV_ISA_EXT_ZICOND]	= "zicond",
	[KVM_RISCV_ISA_EXT_ZBC]		= "zbc",
	[KVM_RISCV_ISA_EXT_ZBKB]	= "zbkb",
	[KVM_RISCV_ISA_EXT_ZBKC]	= "zbkc",
	[KVM_RISCV_ISA_EXT_ZBKX]	= "zbkx",
	[KVM_RISCV_ISA_EXT_ZKND]	= "zknd",
	[KVM_RISCV_ISA_EXT_ZKNE]	= "zkne",
	[KVM_RISCV_ISA_EXT_ZKNH]	= "zknh",
	[KVM_RISCV_ISA_EXT_ZKR]		= "zkr",
	[KVM_RISCV_ISA_EXT_ZKSED]	= "zksed",
	[KVM_RISCV_ISA_EXT_ZKSH]	= "zksh",
	[KVM_RISCV_ISA_EXT_ZKT]		= "zkt",
	[KVM_RISCV_ISA_EXT_ZVBB]	= "zvbb",
	[KVM_RISCV_ISA_EXT_ZVBC]	= "zvbc",
	[KVM_RISCV_ISA_EXT_ZVKB]	= "zvkb",
	[KVM_RISCV_ISA_EXT_ZVKG]	= "zvkg",
	[KVM_RISCV_ISA_EXT_ZVKNED]	= "zvkned",
	[KVM_RISCV_ISA_EXT_ZVKNHA]	= "zvknha",
	[KVM_RISCV_ISA_EXT_ZVKNHB]	= "zvknhb",
	[KVM_RISCV_ISA_EXT_ZVKSED]	= "zvksed",
	[KVM_RISCV_ISA_EXT_ZVKSH]	= "zvksh",
	[KVM_RISCV_ISA_EXT_ZVKT]	= "zvkt",
	[KVM_RISCV_ISA_EXT_ZFH]		= "zfh",
	[KVM_RISCV_ISA_EXT_ZFHMIN]	= "zfhmin",
	[KVM_RISCV_ISA_EXT_ZIHINTNTL]	= "zihintntl",
	[KVM_RISCV_ISA_EXT_ZVFH]	= "zvfh",
	[KVM_RISCV_ISA_EXT_ZVFHMIN]	= "zvfhmin",
	[KVM_RISCV_ISA_EXT_ZFA]		= "zfa",
	[KVM_RISCV_ISA_EXT_ZTSO]	= "ztso",
	[KVM_RISCV_ISA_EXT_ZACAS]	= "zacas",
	[KVM_RISCV_ISA_EXT_SSCOFPMF]	= "sscofpmf",
	[KVM_RISCV_ISA_EXT_ZIMOP]	= "zimop",
	[KVM_RISCV_ISA_EXT_ZCA]		= "zca",
	[KVM_RISCV_ISA_EXT_ZCB]		= "zcb",
	[KVM_RISCV_ISA_EXT_ZCD]		= "zcd",
	[KVM_RISCV_ISA_EXT_ZCF]		= "zcf",
	[KVM_RISCV_ISA_EXT_ZCMOP]	= "zcmop",
	[KVM_RISCV_ISA_EXT_ZAWRS]	= "zawrs",
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct cpu_desc {
	char		isa[1024];
	const char	*mmu;
	uint64_t	timebase;
	uint64_t	cbom_block, cboz_block;
};

/*
 * Describe the vCPU exactly as KVM will run it: the single-letter ISA from
 * the config isa register, multi-letter extensions from the ISA_EXT
 * registers (ENOENT means the host lacks it), the MMU mode from satp_mode
 * and the timebase from the timer.  All vCPUs are configured alike, so
 * vCPU 0 speaks for all.
 */
static void describe_cpu(struct vcpu *vcpu, struct cpu_desc *d)
{
	uint64_t isa, satp_mode, val;
	size_t len;

	if (get_reg(vcpu, CONFIG_REG(isa), &isa))
		die_errno("KVM_GET_ONE_REG(config isa)");
	if (get_reg(vcpu, CONFIG_REG(satp_mode), &satp_mode))
		die_errno("KVM_GET_ONE_REG(config satp_mode)");
	if (get_reg(vcpu, TIMER_REG(frequency), &d->timebase))
		die_errno("KVM_GET_ONE_REG(timer frequency)");

	len = snprintf(d->isa, sizeof(d->isa), "rv64");
	/* canonical order; 'h' is never offered to a guest in 6.12 */
	for (const char *l = "imafdqcbvh"; *l; l++)
		if (isa & (1UL << (*l - 'a')))
			d->isa[len++] = *l;
	d->isa[len] = '\0';

	for (unsigned int i = 0; i < ARRAY_SIZE(isa_ext_names); i++) {
		if (!isa_ext_names[i])
			continue;
		if (get_reg(vcpu, ISA_EXT_REG(i), &val)) {
			if (errno == ENOENT)
				continue;
			die_errno("KVM_GET_ONE_REG(isa ext %s)", isa_ext_names[i]);
		}
		if (!val)
			continue;
		len += snprintf(d->isa + len, sizeof(d->isa) - len, "_%s",
				isa_ext_names[i]);
		if (i == KVM_RISCV_ISA_EXT_ZICBOM &&
		    get_reg(vcpu, CONFIG_REG(zicbom_block_size), &d->cbom_block))
			die_errno("KVM_GET_ONE_REG(config zicbom_block_size)");
		if (i == KVM_RISCV_ISA_EXT_ZICBOZ &&
		    get_reg(vcpu, CONFIG_REG(zicboz_block_size), &d->cboz_block))
			die_errno("KVM_GET_ONE_REG(config zicboz_block_size)");
	}

	/* satp_mode holds the satp.MODE value: 8 = Sv39, 9 = Sv48, 10 = Sv57 */
	switch (satp_mode) {
	case 8:  d->mmu = "riscv,sv39"; break;
	case 9:  d->mmu = "riscv,sv48"; break;
	case 10: d->mmu = "riscv,sv57"; break;
	default:
		die(EXIT_FAIL, "unexpected satp_mode %lu from KVM",
		    (unsigned long)satp_mode);
	}
}

static size_t build_fdt(void *out, size_t max, const struct cpu_desc *cpu,
			uint64_t initrd_start, uint64_t initrd_end)
{
	struct fdt f = { 0 };
	char name[32];

	fdt_begin_node(&f, "");
	fdt_prop_u32(&f, "#address-cells", 2);
	fdt_prop_u32(&f, "#size-cells", 2);
	fdt_prop_str(&f, "compatible", "linux,kvm-susp-vmm");
	fdt_prop_str(&f, "model", "kvm-susp-vmm");

	fdt_begin_node(&f, "chosen");
	fdt_prop_str(&f, "bootargs", opt.append);
	if (initrd_end > initrd_start) {
		fdt_prop_u64(&f, "linux,initrd-start", initrd_start);
		fdt_prop_u64(&f, "linux,initrd-end", initrd_end);
	}
	fdt_end_node(&f);

	snprintf(name, sizeof(name), "memory@%lx", RAM_BASE);
	fdt_begin_node(&f, name);
	fdt_prop_str(&f, "device_type", "memory");
	fdt_prop_reg(&f, RAM_BASE, vm.ram_size);
	fdt_end_node(&f);

	fdt_begin_node(&f, "cpus");
	fdt_prop_u32(&f, "#address-cells", 1);
	fdt_prop_u32(&f, "#size-cells", 0);
	fdt_prop_u32(&f, "timebase-frequency", cpu->timebase);
	for (int i = 0; i < opt.smp; i++) {
		snprintf(name, sizeof(name), "cpu@%d", i);
		fdt_begin_node(&f, name);
		fdt_prop_str(&f, "device_type", "cpu");
		fdt_prop_u32(&f, "reg", i);
		fdt_prop_str(&f, "status", "okay");
		/* "riscv" is also what the riscv timer driver probes for */
		fdt_prop_str(&f, "compatible", "riscv");
		fdt_prop_str(&f, "riscv,isa", cpu->isa);
		fdt_prop_str(&f, "mmu-type", cpu->mmu);
		if (cpu->cbom_block)
			fdt_prop_u32(&f, "riscv,cbom-block-size", cpu->cbom_block);
		if (cpu->cboz_block)
			fdt_prop_u32(&f, "riscv,cboz-block-size", cpu->cboz_block);

		/* the timer and IPIs arrive through the per-hart intc */
		fdt_begin_node(&f, "interrupt-controller");
		fdt_prop_u32(&f, "#interrupt-cells", 1);
		fdt_prop(&f, "interrupt-controller", NULL, 0);
		fdt_prop_str(&f, "compatible", "riscv,cpu-intc");
		fdt_prop_u32(&f, "phandle", i + 1);
		fdt_end_node(&f);

		fdt_end_node(&f);
	}
	fdt_end_node(&f);

	fdt_end_node(&f);
	return fdt_finish(&f, out, max);
}

/* ---- guest image loading --------------------------------------------- */

/* Documentation/arch/riscv/boot-image-header.rst */
struct riscv_image_header {
	uint32_t	code0;
	uint32_t	code1;
	uint64_t	text_offset;
	uint64_t	image_size;
	uint64_t	flags;
	uint32_t	version;
	uint32_t	res1;
	uint64_t	res2;
	uint64_t	magic;
	uint32_t	magic2;
	uint32_t	res3;
};

#define RISCV_IMAGE_MAGIC2	0x05435352	/* "RSC\x05" */

static void *read_file(const char *path, size_t *len)
{
	struct stat st;
	void *buf;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		die_errno("opening %s", path);
	if (fstat(fd, &st))
		die_errno("stat %s", path);
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf)
		die(EXIT_FAIL, "out of memory reading %s", path);
	for (off_t off = 0; off < st.st_size; ) {
		ssize_t n = read(fd, (char *)buf + off, st.st_size - off);

		if (n <= 0)
			die_errno("reading %s", path);
		off += n;
	}
	close(fd);
	*len = st.st_size;
	return buf;
}

static void *gpa_to_hva(uint64_t gpa, uint64_t len)
{
	if (gpa < RAM_BASE || gpa - RAM_BASE > vm.ram_size ||
	    len > vm.ram_size - (gpa - RAM_BASE))
		return NULL;
	return (char *)vm.ram + (gpa - RAM_BASE);
}

/*
 * RAM layout: kernel at RAM_BASE + text_offset (RAM_BASE is 2 MiB aligned),
 * device tree in the last 64 KiB, initrd just below it.  Returns the entry
 * point; the DTB address is returned through @dtb_gpa.
 */
static uint64_t load_guest(struct vcpu *boot, uint64_t *dtb_gpa)
{
	struct riscv_image_header *hdr;
	uint64_t kernel_gpa, kernel_end, initrd_gpa = 0, initrd_end = 0;
	struct cpu_desc cpu = { 0 };
	size_t len, initrd_len;
	void *image, *initrd;

	image = read_file(opt.kernel, &len);
	hdr = image;
	if (len < sizeof(*hdr) || hdr->magic2 != RISCV_IMAGE_MAGIC2)
		die(EXIT_FAIL, "%s: not a RISC-V Image (bad header magic)", opt.kernel);
	kernel_gpa = RAM_BASE + hdr->text_offset;
	/* RV64 kernels map themselves with 2 MiB pages from the load address */
	if (kernel_gpa & (SZ_2M - 1))
		die(EXIT_FAIL, "%s: text_offset 0x%lx is not 2 MiB aligned",
		    opt.kernel, (unsigned long)hdr->text_offset);
	/* image_size covers bss too; 0 means "unknown", be generous */
	kernel_end = kernel_gpa + (hdr->image_size ? hdr->image_size : 2 * len);
	if (!gpa_to_hva(kernel_gpa, kernel_end - kernel_gpa))
		die(EXIT_FAIL, "kernel (%lu bytes) does not fit in %lu MiB of RAM",
		    (unsigned long)(kernel_end - kernel_gpa), opt.mem_mib);
	memcpy(gpa_to_hva(kernel_gpa, len), image, len);
	free(image);

	*dtb_gpa = RAM_BASE + vm.ram_size - 0x10000;

	if (opt.initrd) {
		initrd = read_file(opt.initrd, &initrd_len);
		initrd_gpa = (*dtb_gpa - initrd_len) & ~0xfffUL;
		if (initrd_gpa < kernel_end)
			die(EXIT_FAIL, "initrd does not fit between kernel and DTB");
		initrd_end = initrd_gpa + initrd_len;
		memcpy(gpa_to_hva(initrd_gpa, initrd_len), initrd, initrd_len);
		free(initrd);
	}

	describe_cpu(boot, &cpu);
	len = build_fdt(gpa_to_hva(*dtb_gpa, 0x10000), 0x10000, &cpu,
			initrd_gpa, initrd_end);
	vmm_log("guest: %d vcpu(s), %lu MiB, kernel at 0x%lx, initrd 0x%lx-0x%lx, dtb 0x%lx (%zu bytes)",
		opt.smp, opt.mem_mib, (unsigned long)kernel_gpa,
		(unsigned long)initrd_gpa, (unsigned long)initrd_end,
		(unsigned long)*dtb_gpa, len);
	vmm_log("guest: riscv,isa=%s mmu-type=%s timebase=%lu", cpu.isa,
		cpu.mmu, (unsigned long)cpu.timebase);
	return kernel_gpa;
}

/* ---- stopping -------------------------------------------------------- */

static void kick_handler(int sig)
{
	(void)sig;	/* only here so that KVM_RUN returns -EINTR */
}

/*
 * Stop every vCPU thread.  immediate_exit catches a thread that is between
 * its stopping check and KVM_RUN; the signal wakes one sleeping inside
 * KVM_RUN (a stopped hart sleeps there) or waiting for a wake event.
 */
static void stop_all(int status)
{
	pthread_mutex_lock(&stop_lock);
	if (!stopping) {
		exit_status = status;
		stopping = true;
		for (int i = 0; i < opt.smp; i++) {
			vm.vcpus[i].run->immediate_exit = 1;
			if (!pthread_equal(vm.vcpus[i].thread, pthread_self()))
				pthread_kill(vm.vcpus[i].thread, SIGUSR2);
		}
	}
	pthread_mutex_unlock(&stop_lock);
}

/* ---- SBI exits ------------------------------------------------------- */

static void handle_dbcn(struct kvm_run *run)
{
	unsigned long num = run->riscv_sbi.args[0];
	uint64_t base = run->riscv_sbi.args[1];
	void *buf;

	switch (run->riscv_sbi.function_id) {
	case SBI_EXT_DBCN_WRITE:
		/* on RV64 base_addr_lo is the whole address; hi must be 0 */
		buf = gpa_to_hva(base, num);
		if (run->riscv_sbi.args[2] || !buf) {
			run->riscv_sbi.ret[0] = SBI_ERR_INVALID_PARAM;
			break;
		}
		console_out(buf, num);
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

		console_out(&c, 1);
		run->riscv_sbi.ret[0] = SBI_SUCCESS;
		run->riscv_sbi.ret[1] = 0;
		break;
	}
	default:
		run->riscv_sbi.ret[0] = SBI_ERR_NOT_SUPPORTED;
	}
}

/*
 * Wait for something to wake the suspended guest: SIGUSR1 sent to the
 * process (all threads block it, so sigtimedwait() collects it) or the
 * --wake-after timer.  Returns false if we are being stopped instead.
 */
static bool wait_for_wake(const char **why)
{
	struct timespec ts = {
		.tv_sec = opt.wake_after_ms / 1000,
		.tv_nsec = (opt.wake_after_ms % 1000) * 1000000,
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
		if (opt.wake_after_ms > 0)
			sig = sigtimedwait(&set, NULL, &ts);
		else
			sig = sigwaitinfo(&set, NULL);
		if (sig == SIGUSR1) {
			*why = "SIGUSR1";
			return true;
		}
		if (sig < 0 && errno == EAGAIN) {
			*why = "timer";
			return true;
		}
		if (stopping)
			return false;
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
static void handle_susp(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	double t_suspend, t_resume;
	const char *why;

	if (run->riscv_sbi.function_id != SBI_EXT_SUSP_SYSTEM_SUSPEND) {
		run->riscv_sbi.ret[0] = SBI_ERR_NOT_SUPPORTED;
		return;
	}

	t_suspend = now();
	if (!t_first_suspend)
		t_first_suspend = t_suspend;
	vmm_log("suspend: vcpu%d sleep_type=0x%lx resume_addr=0x%lx opaque=0x%lx",
		vcpu->id, (unsigned long)run->riscv_sbi.args[0],
		(unsigned long)run->riscv_sbi.args[1],
		(unsigned long)run->riscv_sbi.args[2]);

	if (opt.deny_suspend) {
		/*
		 * With DENIED or FAILURE, KVM drops the pending reset and the
		 * guest sees this error (hardening only); other errors resume.
		 */
		run->riscv_sbi.ret[0] = opt.deny_suspend;
		run->riscv_sbi.ret[1] = 0;
		nr_denied++;
		vmm_log("suspend: denied with SBI error %ld", opt.deny_suspend);
		return;
	}

	if (!wait_for_wake(&why))
		return;
	if (opt.wake_after_ms > 0 && !strcmp(why, "timer"))
		vmm_log("wake: timer after %ld ms", opt.wake_after_ms);
	else
		vmm_log("wake: %s", why);

	/*
	 * SBI_SUCCESS says what we mean. Any answer but SBI_ERR_DENIED and
	 * SBI_ERR_FAILURE resumes (the preset NOT_SUPPORTED too); those two
	 * refuse the suspend with the series' hardening, and resume on a
	 * kernel with only its core, as upstream.
	 */
	run->riscv_sbi.ret[0] = SBI_SUCCESS;
	run->riscv_sbi.ret[1] = 0;

	t_resume = now();
	round_trips = realloc(round_trips, (nr_suspends + 1) * sizeof(double));
	if (!round_trips)
		die(EXIT_FAIL, "out of memory");
	round_trips[nr_suspends++] = t_resume - t_suspend;
	vmm_log("resume: vcpu%d (round trip %.3f s)", vcpu->id,
		t_resume - t_suspend);
}

static void handle_sbi(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char c;

	switch (run->riscv_sbi.extension_id) {
	case SBI_EXT_0_1_CONSOLE_PUTCHAR:
		c = run->riscv_sbi.args[0];
		console_out(&c, 1);
		run->riscv_sbi.ret[0] = 0;
		break;
	case SBI_EXT_0_1_CONSOLE_GETCHAR:
		run->riscv_sbi.ret[0] = -1;	/* no input */
		break;
	case SBI_EXT_DBCN:
		handle_dbcn(run);
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
		stop_all(EXIT_PASS);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vmm_log("reset: requested by vcpu%d; this VMM does not reboot, "
			"treating it as guest failure", vcpu->id);
		stop_all(EXIT_FAIL);
		break;
	default:
		vmm_log("vcpu%d: unexpected system event %u", vcpu->id,
			run->system_event.type);
		stop_all(EXIT_FAIL);
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct kvm_run *run = vcpu->run;

	if (vcpu->id == 0) {
		t_first_run = now();
		vmm_log("vm: vcpu0 enters the guest");
	}

	while (!stopping) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			vmm_log("vcpu%d: KVM_RUN: %s", vcpu->id, strerror(errno));
			stop_all(EXIT_FAIL);
			break;
		}

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
			stop_all(EXIT_FAIL);
			break;
		default:
			vmm_log("vcpu%d: unexpected exit reason %u", vcpu->id,
				run->exit_reason);
			stop_all(EXIT_FAIL);
		}
	}
	return NULL;
}

/* ---- setup ----------------------------------------------------------- */

static void create_vm(void)
{
	struct kvm_userspace_memory_region region;

	vm.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm.kvm_fd < 0) {
		fprintf(stderr, "vmm: cannot open /dev/kvm: %s (no KVM on this host, skipping)\n",
			strerror(errno));
		exit(EXIT_SKIP);
	}
	vm.vm_fd = ioctl(vm.kvm_fd, KVM_CREATE_VM, 0);
	if (vm.vm_fd < 0)
		die_errno("KVM_CREATE_VM");

	vm.ram_size = opt.mem_mib << 20;
	vm.ram = mmap(NULL, vm.ram_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm.ram == MAP_FAILED)
		die_errno("mapping %lu MiB of guest RAM", opt.mem_mib);

	region = (struct kvm_userspace_memory_region) {
		.slot = 0,
		.guest_phys_addr = RAM_BASE,
		.memory_size = vm.ram_size,
		.userspace_addr = (uintptr_t)vm.ram,
	};
	if (ioctl(vm.vm_fd, KVM_SET_USER_MEMORY_REGION, &region))
		die_errno("KVM_SET_USER_MEMORY_REGION(slot 0 at 0x%lx)", RAM_BASE);

	vm.run_size = ioctl(vm.kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if ((long)vm.run_size <= 0)
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

	if (opt.no_susp)
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

static void create_vcpu(struct vcpu *vcpu, int id)
{
	vcpu->id = id;
	vcpu->fd = ioctl(vm.vm_fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0)
		die_errno("KVM_CREATE_VCPU(%d)", id);
	vcpu->run = mmap(NULL, vm.run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
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
"  --deny-suspend ERR      answer every suspend with SBI error ERR: -4 (DENIED)\n"
"                          and -1 (FAILURE) refuse it on a kernel with the\n"
"                          series' hardening\n"
"  --no-susp               don't enable SBI SUSP (debug)\n"
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

static void parse_options(int argc, char **argv)
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
		{ "no-susp",		no_argument,	   NULL, 'n' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': opt.kernel = optarg; break;
		case 'i': opt.initrd = optarg; break;
		case 'a': opt.append = optarg; break;
		case 's': opt.smp = parse_num("--smp", optarg, 1, MAX_VCPUS); break;
		case 'm': opt.mem_mib = parse_num("--mem", optarg, 16, 4096); break;
		case 'w': opt.wake_after_ms = parse_num("--wake-after", optarg, 0, 3600000); break;
		case 'e': opt.expect_suspends = parse_num("--expect-suspends", optarg, 0, 1000000); break;
		case 'd': opt.deny_suspend = parse_num("--deny-suspend", optarg, -1000, -1); break;
		case 'n': opt.no_susp = true; break;
		case 'h': usage(NULL);
		default:  usage(NULL);
		}
	}
	if (optind < argc)
		usage("unexpected argument '%s'", argv[optind]);
	if (!opt.kernel)
		usage("--kernel is required");
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	uint64_t entry, dtb_gpa;
	struct vcpu *boot;
	sigset_t set;
	int status;

	clock_gettime(CLOCK_MONOTONIC, &start_ts);
	parse_options(argc, argv);

	/* no SA_RESTART: the point of SIGUSR2 is to break out of KVM_RUN */
	if (sigaction(SIGUSR2, &sa, NULL))
		die_errno("sigaction(SIGUSR2)");
	/* SIGUSR1 is collected synchronously by the suspending vCPU thread */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	create_vm();
	for (int i = 0; i < opt.smp; i++)
		create_vcpu(&vm.vcpus[i], i);
	vmm_log("vm: SBI DBCN%s enabled on %d vcpu(s)",
		opt.no_susp ? "" : " and SUSP", opt.smp);

	boot = &vm.vcpus[0];
	entry = load_guest(boot, &dtb_gpa);
	if (set_reg(boot, CORE_REG(regs.pc), entry) ||
	    set_reg(boot, CORE_REG(regs.a0), 0) ||
	    set_reg(boot, CORE_REG(regs.a1), dtb_gpa))
		die_errno("setting boot registers of vcpu0");

	/* stop_all() signals every thread: let it wait until they all exist */
	pthread_mutex_lock(&stop_lock);
	for (int i = 0; i < opt.smp; i++) {
		errno = pthread_create(&vm.vcpus[i].thread, NULL, vcpu_thread,
				       &vm.vcpus[i]);
		if (errno)
			die_errno("creating thread for vcpu%d", i);
	}
	pthread_mutex_unlock(&stop_lock);
	for (int i = 0; i < opt.smp; i++)
		pthread_join(vm.vcpus[i].thread, NULL);

	status = exit_status;
	if (nr_suspends) {
		double median;

		qsort(round_trips, nr_suspends, sizeof(double), cmp_double);
		median = (round_trips[(nr_suspends - 1) / 2] +
			  round_trips[nr_suspends / 2]) / 2;
		vmm_log("summary: %lu suspend(s), %lu denied, median suspend->resume round trip %.3f s, first suspend %.3f s after vcpu0 entered the guest",
			nr_suspends, nr_denied, median, t_first_suspend - t_first_run);
	} else {
		vmm_log("summary: 0 suspends, %lu denied", nr_denied);
	}
	if (opt.expect_suspends >= 0 &&
	    (unsigned long)opt.expect_suspends != nr_suspends) {
		vmm_log("expected %ld suspend(s), handled %lu", opt.expect_suspends,
			nr_suspends);
		if (status == EXIT_PASS)
			status = EXIT_MISMATCH;
	}
	vmm_log("exit status %d", status);
	return status;
}
