// SPDX-License-Identifier: GPL-2.0
/*
 * vmm: the flattened device tree the guest boots with.
 */
#include <stdio.h>
#include <stdlib.h>

#include "vmm.h"

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

/*
 * Describe the vCPU exactly as KVM will run it: the single-letter ISA from
 * the config isa register, multi-letter extensions from the ISA_EXT
 * registers (ENOENT means the host lacks it), the MMU mode from satp_mode
 * and the timebase from the timer.  All vCPUs are configured alike, so
 * vCPU 0 speaks for all.
 */
void describe_cpu(struct vcpu *vcpu, struct cpu_desc *d)
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

/* phandles: hart i's intc, then the AIA's two controllers */
#define PHANDLE_CPU_INTC(i)	((i) + 1)
#define PHANDLE_IMSICS		(MAX_VCPUS + 1)
#define PHANDLE_APLIC		(MAX_VCPUS + 2)
#define IRQ_S_EXT		9

/* The in-kernel AIA of aia.c, with the bindings Linux's drivers read */
static void fdt_aia(struct fdt *f, const struct vm_state *vm)
{
	const struct aia_layout *aia = &vm->aia;
	int smp = vm->opt->smp;
	uint32_t irqs[2 * MAX_VCPUS];
	char name[32];

	snprintf(name, sizeof(name), "imsics@%lx", (unsigned long)aia->imsic_base);
	fdt_begin_node(f, name);
	fdt_prop_str(f, "compatible", "riscv,imsics");
	fdt_prop_reg(f, aia->imsic_base, smp * KVM_DEV_RISCV_IMSIC_SIZE);
	fdt_prop(f, "interrupt-controller", NULL, 0);
	fdt_prop_u32(f, "#interrupt-cells", 0);
	fdt_prop(f, "msi-controller", NULL, 0);
	fdt_prop_u32(f, "riscv,num-ids", aia->nr_ids);
	/* each hart's S-mode external interrupt, in hart index order */
	for (int i = 0; i < smp; i++) {
		irqs[2 * i] = __builtin_bswap32(PHANDLE_CPU_INTC(i));
		irqs[2 * i + 1] = __builtin_bswap32(IRQ_S_EXT);
	}
	fdt_prop(f, "interrupts-extended", irqs, smp * 2 * sizeof(irqs[0]));
	fdt_prop_u32(f, "phandle", PHANDLE_IMSICS);
	fdt_end_node(f);

	snprintf(name, sizeof(name), "aplic@%lx", (unsigned long)aia->aplic_base);
	fdt_begin_node(f, name);
	fdt_prop_str(f, "compatible", "riscv,aplic");
	fdt_prop_reg(f, aia->aplic_base, aia->aplic_size);
	fdt_prop(f, "interrupt-controller", NULL, 0);
	fdt_prop_u32(f, "#interrupt-cells", 2);
	fdt_prop_u32(f, "msi-parent", PHANDLE_IMSICS);
	fdt_prop_u32(f, "riscv,num-sources", aia->nr_sources);
	fdt_prop_u32(f, "phandle", PHANDLE_APLIC);
	fdt_end_node(f);
}

size_t build_fdt(const struct vm_state *vm, void *out, size_t max,
		 const struct cpu_desc *cpu, uint64_t initrd_start,
		 uint64_t initrd_end)
{
	struct fdt f = { 0 };
	char name[32];

	fdt_begin_node(&f, "");
	fdt_prop_u32(&f, "#address-cells", 2);
	fdt_prop_u32(&f, "#size-cells", 2);
	fdt_prop_str(&f, "compatible", "linux,kvm-susp-vmm");
	fdt_prop_str(&f, "model", "kvm-susp-vmm");

	fdt_begin_node(&f, "chosen");
	fdt_prop_str(&f, "bootargs", vm->opt->append);
	if (initrd_end > initrd_start) {
		fdt_prop_u64(&f, "linux,initrd-start", initrd_start);
		fdt_prop_u64(&f, "linux,initrd-end", initrd_end);
	}
	fdt_end_node(&f);

	snprintf(name, sizeof(name), "memory@%lx", RAM_BASE);
	fdt_begin_node(&f, name);
	fdt_prop_str(&f, "device_type", "memory");
	fdt_prop_reg(&f, RAM_BASE, vm->ram_size);
	fdt_end_node(&f);

	fdt_begin_node(&f, "cpus");
	fdt_prop_u32(&f, "#address-cells", 1);
	fdt_prop_u32(&f, "#size-cells", 0);
	fdt_prop_u32(&f, "timebase-frequency", cpu->timebase);
	for (int i = 0; i < vm->opt->smp; i++) {
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
		fdt_prop_u32(&f, "phandle", PHANDLE_CPU_INTC(i));
		fdt_end_node(&f);

		fdt_end_node(&f);
	}
	fdt_end_node(&f);

	if (vm->aia.nr_ids)
		fdt_aia(&f, vm);

	fdt_end_node(&f);
	return fdt_finish(&f, out, max);
}
