// SPDX-License-Identifier: GPL-2.0
/*
 * vmm: loading the kernel Image, the initrd and the device tree into guest
 * RAM.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include "vmm.h"

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

void *gpa_to_hva(const struct vm_state *vm, uint64_t gpa, uint64_t len)
{
	if (gpa < RAM_BASE || gpa - RAM_BASE > vm->ram_size ||
	    len > vm->ram_size - (gpa - RAM_BASE))
		return NULL;
	return (char *)vm->ram + (gpa - RAM_BASE);
}

/*
 * RAM layout: kernel at RAM_BASE + text_offset (RAM_BASE is 2 MiB aligned),
 * device tree in the last 64 KiB, initrd just below it.  Returns the entry
 * point; the DTB address is returned through @dtb_gpa.
 */
uint64_t load_guest(struct vm_state *vm, struct vcpu *boot, uint64_t *dtb_gpa)
{
	const struct options *opt = vm->opt;
	struct riscv_image_header *hdr;
	uint64_t kernel_gpa, kernel_end, initrd_gpa = 0, initrd_end = 0;
	struct cpu_desc cpu = { 0 };
	size_t len, initrd_len;
	void *image, *initrd;

	image = read_file(opt->kernel, &len);
	hdr = image;
	if (len < sizeof(*hdr) || hdr->magic2 != RISCV_IMAGE_MAGIC2)
		die(EXIT_FAIL, "%s: not a RISC-V Image (bad header magic)", opt->kernel);
	kernel_gpa = RAM_BASE + hdr->text_offset;
	/* RV64 kernels map themselves with 2 MiB pages from the load address */
	if (kernel_gpa & (SZ_2M - 1))
		die(EXIT_FAIL, "%s: text_offset 0x%lx is not 2 MiB aligned",
		    opt->kernel, (unsigned long)hdr->text_offset);
	/* image_size covers bss too; 0 means "unknown", be generous */
	kernel_end = kernel_gpa + (hdr->image_size ? hdr->image_size : 2 * len);
	if (!gpa_to_hva(vm, kernel_gpa, kernel_end - kernel_gpa))
		die(EXIT_FAIL, "kernel (%lu bytes) does not fit in %lu MiB of RAM",
		    (unsigned long)(kernel_end - kernel_gpa), opt->mem_mib);
	memcpy(gpa_to_hva(vm, kernel_gpa, len), image, len);
	free(image);

	*dtb_gpa = RAM_BASE + vm->ram_size - 0x10000;

	if (opt->initrd) {
		initrd = read_file(opt->initrd, &initrd_len);
		initrd_gpa = (*dtb_gpa - initrd_len) & ~0xfffUL;
		if (initrd_gpa < kernel_end)
			die(EXIT_FAIL, "initrd does not fit between kernel and DTB");
		initrd_end = initrd_gpa + initrd_len;
		memcpy(gpa_to_hva(vm, initrd_gpa, initrd_len), initrd, initrd_len);
		free(initrd);
	}

	describe_cpu(boot, &cpu);
	vm->timebase = cpu.timebase;
	len = build_fdt(vm, gpa_to_hva(vm, *dtb_gpa, 0x10000), 0x10000, &cpu,
			initrd_gpa, initrd_end);
	vmm_log("guest: %d vcpu(s), %lu MiB, kernel at 0x%lx, initrd 0x%lx-0x%lx, dtb 0x%lx (%zu bytes)",
		opt->smp, opt->mem_mib, (unsigned long)kernel_gpa,
		(unsigned long)initrd_gpa, (unsigned long)initrd_end,
		(unsigned long)*dtb_gpa, len);
	vmm_log("guest: riscv,isa=%s mmu-type=%s timebase=%lu", cpu.isa,
		cpu.mmu, (unsigned long)cpu.timebase);
	return kernel_gpa;
}
