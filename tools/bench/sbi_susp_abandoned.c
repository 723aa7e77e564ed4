// SPDX-License-Identifier: GPL-2.0-only
/*
 * sbi_susp_abandoned - VMs closed with an SBI system suspend pending
 *
 * The exit taken, no KVM_RUN after it: a pending resume must not keep
 * anything of the VM alive. Two batches of VMs, one closed after running,
 * one closed at its suspend exit, must each leave the host as it found
 * it: not one G-stage page table page kept (nr_sec_page_table_pages in
 * /proc/vmstat, which the series' fixes part makes KVM RISC-V count), and
 * MemAvailable and Slab within fixed bounds. Stock 6.12 kept the G-stage
 * tables below the root of every VM that ran (4 pages with Sv57x4, 16 MB
 * per 1000 VMs), which the first batch catches. kmemleak, on the debug
 * kernel, sees leaked allocations; this sees pages, which kmemleak does
 * not track.
 *
 * A probe of the project, not a KVM selftest: the counters it reads are
 * the host's, which other VMs and processes move too; it needs a host
 * that runs nothing else, as the test host does. Built against the KVM
 * selftest library of the tree under test (tools/bench/Makefile).
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>

#include "kvm_util.h"
#include "processor.h"
#include "sbi.h"
#include "sbi_susp.h"
#include "test_util.h"
#include "ucall_common.h"

#define DEFAULT_VMS		1000
#define WARMUP_VMS		20
#define SUSP_OPAQUE		0x0123456789abcdefUL
/*
 * The G-stage count is exact and finds a leak of tables to the page. The
 * bounds below catch anything else the VMs keep. MemAvailable moves by up
 * to 6 MB per batch for reasons of its own (the first batch of a boot
 * keeps 4-6 MB more than the next, under QEMU); a VM kept alive holds
 * 183 kB (measured on a kernel that took a reference at each suspend
 * exit). A slab object of 256 bytes per VM shows in Slab over 1000 VMs.
 */
#define AVAILABLE_BOUND_KB(vms)	(16 * 1024 + (vms) * 64)
#define SLAB_BOUND_KB(vms)	(256 + (vms) / 4)

static vm_paddr_t resume_gpa;

static void guest_suspend(void)
{
	sbi_system_suspend(SBI_SUSP_SLEEP_TYPE_SUSPEND_TO_RAM, resume_gpa,
			   SUSP_OPAQUE);
	GUEST_FAIL("SYSTEM_SUSPEND returned");
}

static void guest_done(void)
{
	GUEST_DONE();
}

/* The value of a "name value" line, as /proc/meminfo and /proc/vmstat have */
static long proc_field(const char *path, const char *field)
{
	size_t len = strlen(field);
	FILE *f = fopen(path, "r");
	char line[128];
	long val;

	TEST_ASSERT(f, "fopen(%s) failed", path);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, len) &&
		    (line[len] == ':' || line[len] == ' ') &&
		    sscanf(line + len + 1, "%ld", &val) == 1) {
			fclose(f);
			return val;
		}
	}
	TEST_FAIL("no %s in %s", field, path);
}

/* Pages of G-stage (and other secondary) page tables on the host */
static long gstage_pages(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);

	/*
	 * Each CPU keeps its changes to the count until they reach a
	 * threshold, dozens of pages: fold them in first, or a VM's tables
	 * do not show at all.
	 */
	TEST_ASSERT(fd >= 0 && write(fd, "1", 1) == 1,
		    "writing /proc/sys/vm/stat_refresh failed");
	close(fd);
	return proc_field("/proc/vmstat", "nr_sec_page_table_pages");
}

struct host_memory {
	long gstage_pages;
	long available_kb;
	long slab_kb;
};

static void read_host_memory(struct host_memory *mem)
{
	/* What KVM frees after an RCU grace period */
	sleep(1);
	mem->gstage_pages = gstage_pages();
	mem->available_kb = proc_field("/proc/meminfo", "MemAvailable");
	mem->slab_kb = proc_field("/proc/meminfo", "Slab");
}

/* One VM that has run: to its suspend exit, or to the end of its code */
static struct kvm_vm *run_vm(bool suspend)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	vm = vm_create_with_one_vcpu(&vcpu, suspend ? guest_suspend : guest_done);
	__TEST_REQUIRE(vcpu_has_sbi_susp(vcpu), "host kernel lacks SBI SUSP");
	resume_gpa = susp_vm_setup(vm, &vcpu, 1);
	sync_global_to_guest(vm, resume_gpa);

	if (suspend)
		vcpu_run_to_susp_exit(vcpu, SBI_SUSP_SLEEP_TYPE_SUSPEND_TO_RAM,
				      resume_gpa, SUSP_OPAQUE);
	else
		vcpu_run_to_ucall(vcpu, UCALL_DONE);
	return vm;
}

static void run_and_close_vm(bool suspend)
{
	kvm_vm_free(run_vm(suspend));
}

/*
 * A VM that ran holds G-stage tables; a kernel that does not count them
 * shows none, and then nothing here can see them leak.
 */
static void require_gstage_count(void)
{
	long before = gstage_pages();
	struct kvm_vm *vm = run_vm(false);

	__TEST_REQUIRE(gstage_pages() > before,
		       "host kernel does not count G-stage page tables in nr_sec_page_table_pages");
	kvm_vm_free(vm);
}

/* Checks that the VMs kept nothing */
static void run_and_close_vms(unsigned int nr_vms, bool suspend)
{
	struct host_memory before, after;
	long kept_pages, kept_kb, slab_kb;
	unsigned int i;

	read_host_memory(&before);
	for (i = 0; i < nr_vms; i++)
		run_and_close_vm(suspend);
	read_host_memory(&after);

	kept_pages = after.gstage_pages - before.gstage_pages;
	kept_kb = before.available_kb - after.available_kb;
	slab_kb = after.slab_kb - before.slab_kb;
	pr_info("%u VMs %s:\n", nr_vms,
		suspend ? "closed with a suspend pending" : "closed after running");
	pr_info("G-stage pages %ld before, %ld after; MemAvailable %ld kB before, %ld kB after; Slab %ld kB before, %ld kB after\n",
		before.gstage_pages, after.gstage_pages, before.available_kb,
		after.available_kb, before.slab_kb, after.slab_kb);

	TEST_ASSERT(!kept_pages, "%ld G-stage page table pages kept by %u VMs",
		    kept_pages, nr_vms);
	/* Both can come out negative, within the noise */
	TEST_ASSERT(kept_kb <= AVAILABLE_BOUND_KB(nr_vms),
		    "MemAvailable down by %ld kB, over the bound of %u kB",
		    kept_kb, AVAILABLE_BOUND_KB(nr_vms));
	TEST_ASSERT(slab_kb <= SLAB_BOUND_KB(nr_vms),
		    "Slab up by %ld kB, over the bound of %u kB", slab_kb,
		    SLAB_BOUND_KB(nr_vms));
}

int main(int argc, char *argv[])
{
	unsigned int nr_vms = DEFAULT_VMS, i;
	int opt;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		switch (opt) {
		case 'n':
			nr_vms = atoi_positive("Number of VMs", optarg);
			break;
		default:
			printf("usage: %s [-n vms]\n", argv[0]);
			exit(KSFT_FAIL);
		}
	}

	require_gstage_count();
	/* Let the slab caches and the page cache of this program settle */
	for (i = 0; i < WARMUP_VMS; i++)
		run_and_close_vm(true);

	run_and_close_vms(nr_vms, false);
	run_and_close_vms(nr_vms, true);
	return 0;
}
