// SPDX-License-Identifier: GPL-2.0-only
/*
 * sbi_susp_abandoned - VMs closed with an SBI system suspend pending
 *
 * The exit taken, no KVM_RUN after it: a pending resume must not keep
 * anything of the VM alive. 6.12 itself keeps some memory of every VM
 * that ran (about 16 kB, the G-stage page tables below the root, kept
 * after the VM is gone), so the suspending VMs are measured against as
 * many VMs that ran and closed without suspending. kmemleak, on the debug
 * kernel, sees leaked allocations that this does not; this sees pages,
 * which kmemleak does not track.
 *
 * A probe of the project, not a KVM selftest: it reads the host's
 * /proc/meminfo, which other processes move too. Built against the KVM
 * selftest library of the tree under test (tools/bench/Makefile).
 */
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
 * Over the noise (up to 3 kB per VM between two runs of 1000 VMs, under
 * QEMU), far under what a VM kept alive holds (183 kB per VM measured on a
 * kernel that took a reference at each suspend exit); a slab object of
 * 256 bytes per VM shows in Slab.
 */
#define SLACK_KB(vms)		((vms) * 6)
#define SLAB_SLACK_KB(vms)	((vms) / 4)

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

static unsigned long meminfo_kb(const char *field)
{
	size_t len = strlen(field);
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long kb;
	char line[128];

	TEST_ASSERT(f, "fopen(/proc/meminfo) failed");
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, len) && line[len] == ':' &&
		    sscanf(line + len + 1, "%lu", &kb) == 1) {
			fclose(f);
			return kb;
		}
	}
	TEST_FAIL("no %s in /proc/meminfo", field);
}

struct host_memory {
	long available_kb;
	long slab_kb;
};

static void read_host_memory(struct host_memory *mem)
{
	/* What KVM frees after an RCU grace period */
	sleep(1);
	mem->available_kb = meminfo_kb("MemAvailable");
	mem->slab_kb = meminfo_kb("Slab");
}

/* One VM that runs and closes, with its suspend pending or without one */
static void run_and_close_vm(bool suspend)
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
	kvm_vm_free(vm);
}

/* Returns the memory the VMs kept: the host's MemAvailable down, Slab up */
static struct host_memory run_and_close_vms(unsigned int nr_vms, bool suspend)
{
	struct host_memory before, after, kept;
	unsigned int i;

	read_host_memory(&before);
	for (i = 0; i < nr_vms; i++)
		run_and_close_vm(suspend);
	read_host_memory(&after);

	pr_info("%u VMs %s:\n", nr_vms,
		suspend ? "closed with a suspend pending" : "closed after running");
	pr_info("MemAvailable %ld kB before, %ld kB after; Slab %ld kB before, %ld kB after\n",
		before.available_kb, after.available_kb, before.slab_kb,
		after.slab_kb);
	kept.available_kb = before.available_kb - after.available_kb;
	kept.slab_kb = after.slab_kb - before.slab_kb;
	return kept;
}

int main(int argc, char *argv[])
{
	unsigned int nr_vms = DEFAULT_VMS, i;
	struct host_memory ran, suspended;
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

	/* Let the slab caches and the page cache of this program settle */
	for (i = 0; i < WARMUP_VMS; i++)
		run_and_close_vm(true);

	ran = run_and_close_vms(nr_vms, false);
	suspended = run_and_close_vms(nr_vms, true);

	/* Either can come out negative, within the noise */
	TEST_ASSERT(suspended.available_kb <= ran.available_kb + SLACK_KB(nr_vms),
		    "MemAvailable: %ld kB kept by the suspending VMs, %ld kB by the others",
		    suspended.available_kb, ran.available_kb);
	TEST_ASSERT(suspended.slab_kb <= SLAB_SLACK_KB(nr_vms),
		    "Slab up by %ld kB", suspended.slab_kb);
	return 0;
}
