/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What sbi_susp_bench.c (the figures) and profile.c (the function graph
 * profile of a suspend) share.
 */
#ifndef SBI_SUSP_BENCH_H
#define SBI_SUSP_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "kvm_util.h"

#define MAX_SAMPLES	4096

/* The guest's loop of suspends, entered with the MMU off */
void suspend_loop(void);

uint64_t median_of(uint64_t *ns, unsigned int nr);
uint64_t timed_run_to_sbi_exit(struct kvm_vcpu *vcpu, unsigned long ext,
			       unsigned long fid);
void enter_with_mmu_off(struct kvm_vcpu *vcpu, void (*loop)(void));
struct kvm_vm *create_caller_vm(unsigned int nr_vcpus, void *guest_code,
				bool last_runs, struct kvm_vcpu **caller);

void profile_suspends(const char *root, unsigned int nr_suspends);

#endif
