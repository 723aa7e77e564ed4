// SPDX-License-Identifier: GPL-2.0
/*
 * sbi_susp_bench -p FUNCTION: where FUNCTION's time goes in a suspend's
 * round trip, from the host kernel's function graph tracer.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "bench.h"
#include "kvm_util.h"
#include "sbi.h"
#include "test_util.h"

#define TRACEFS		"/sys/kernel/tracing"
#define MAX_CHILDREN	64

static void tracefs_write(const char *file, const char *val)
{
	size_t done = 0, len = strlen(val);
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC);
	TEST_ASSERT(fd >= 0, "open %s: %s", path, strerror(errno));
	/* a filter file takes one function name per write() */
	while (done < len) {
		n = write(fd, val + done, len - done);
		TEST_ASSERT(n > 0, "write '%s' to %s: %s", val + done, path,
			    strerror(errno));
		done += n;
	}
	close(fd);
}

/*
 * One line of a function_graph trace that ends a call, e.g.
 * " 1) + 15.700 us   |    kvm_riscv_vcpu_sbi_return();": its depth below
 * the root (0 for the root), name and duration. Entry lines ("name() {"),
 * which carry no duration, and the tracer's other lines give false.
 */
static bool parse_graph_line(const char *line, int *depth, char *name,
			     size_t size, double *us)
{
	const char *p = strchr(line, ')'), *bar = strchr(line, '|');
	const char *text, *end;
	int indent;

	if (!p || !bar || bar < p)
		return false;
	p += strspn(p + 1, " +!#*@$") + 1;
	if (sscanf(p, "%lf us", us) != 1)
		return false;
	indent = strspn(bar + 1, " ");
	text = bar + 1 + indent;
	if (!strncmp(text, "} /* ", 5)) {
		text += 5;
		end = strstr(text, " */");
	} else {
		end = strstr(text, "();");
	}
	if (!end || end == text || (size_t)(end - text) >= size)
		return false;
	memcpy(name, text, end - text);
	name[end - text] = '\0';
	*depth = (indent - 2) / 2;
	return true;
}

/*
 * @nr_suspends round trips of @vcpu's suspend loop under the function
 * graph tracer, from @root, @depth calls deep, tracing only @filter (all
 * functions when empty). Calls @fn for each call the trace ends.
 */
static void traced_suspends(struct kvm_vcpu *vcpu, const char *root,
			    const char *filter, int depth, unsigned int nr_suspends,
			    void (*fn)(int depth, const char *name, double us,
				       void *data), void *data)
{
	char line[512], name[128], depth_str[16];
	int call_depth;
	unsigned int i;
	FILE *trace;
	double us;

	tracefs_write("tracing_on", "0");
	tracefs_write("current_tracer", "nop");
	tracefs_write("set_ftrace_filter", filter);
	tracefs_write("set_graph_function", root);
	snprintf(depth_str, sizeof(depth_str), "%d", depth);
	tracefs_write("max_graph_depth", depth_str);
	tracefs_write("options/funcgraph-tail", "1");
	tracefs_write("current_tracer", "function_graph");
	/*
	 * Turning the tracer on patches the kernel's text, and QEMU
	 * translates the patched code anew on its first runs: those are
	 * left out of the trace.
	 */
	for (i = 0; i < 10; i++)
		timed_run_to_sbi_exit(vcpu, SBI_EXT_SUSP, SBI_EXT_SUSP_SYSTEM_SUSPEND);
	tracefs_write("trace", "");
	tracefs_write("tracing_on", "1");
	for (i = 0; i < nr_suspends; i++)
		timed_run_to_sbi_exit(vcpu, SBI_EXT_SUSP, SBI_EXT_SUSP_SYSTEM_SUSPEND);
	tracefs_write("tracing_on", "0");

	trace = fopen(TRACEFS "/trace", "r");
	TEST_ASSERT(trace, "open " TRACEFS "/trace: %s", strerror(errno));
	while (fgets(line, sizeof(line), trace)) {
		if (parse_graph_line(line, &call_depth, name, sizeof(name), &us))
			fn(call_depth, name, us, data);
	}
	fclose(trace);
	tracefs_write("current_tracer", "nop");
}

/* The durations of the calls at one depth of a trace */
struct call_sum {
	unsigned int calls;
	uint64_t ns[MAX_SAMPLES];
};

struct children {
	unsigned int nr;
	char name[MAX_CHILDREN][128];
};

static void add_child(int depth, const char *name, double us, void *data)
{
	struct children *c = data;
	unsigned int i;

	if (depth != 1)
		return;
	for (i = 0; i < c->nr; i++) {
		if (!strcmp(c->name[i], name))
			return;
	}
	TEST_ASSERT(c->nr < MAX_CHILDREN, "more than %u callees", MAX_CHILDREN);
	snprintf(c->name[c->nr++], sizeof(c->name[0]), "%s", name);
}

static void add_call(struct call_sum *sum, double us)
{
	if (sum->calls < MAX_SAMPLES)
		sum->ns[sum->calls++] = us * 1000 + 0.5;
}

/* The root's calls and its callees', in one pass */
struct pass_sums {
	struct call_sum root, callee;
};

static void add_pass_call(int depth, const char *name, double us, void *data)
{
	struct pass_sums *sums = data;

	if (depth == 0)
		add_call(&sums->root, us);
	else if (depth == 1)
		add_call(&sums->callee, us);
}

/*
 * Where @root's time goes in a suspend's round trip. Tracing a call costs
 * far more than most calls under TCG, so a trace of everything would
 * mostly show the tracer: one pass with every function traced only finds
 * @root's callees, then each is timed in a pass that traces nothing but
 * @root and it. An interrupt that lands in a traced call lengthens it, so
 * calls count with their median; and as the emulator's pace changes from
 * pass to pass, a callee counts against the root of its own pass. Prints
 *
 *   bench: profile root=R function=F calls=N median_us=M root_median_us=RM
 *
 * with function=R for the pass that traces the root alone, and N the calls
 * in @nr_suspends.
 */
void profile_suspends(const char *root, unsigned int nr_suspends)
{
	static struct pass_sums sums;
	struct children children = { 0 };
	char filter[256];
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	unsigned int i;

	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL) && errno != EBUSY)
		ksft_exit_skip("no tracefs: %s\n", strerror(errno));
	if (access(TRACEFS "/set_graph_function", W_OK))
		ksft_exit_skip("kernel without the function graph tracer\n");

	vm = create_caller_vm(1, NULL, false, &vcpu);
	enter_with_mmu_off(vcpu, suspend_loop);

	traced_suspends(vcpu, root, "", 2, 10, add_child, &children);

	for (i = 0; i <= children.nr; i++) {
		const char *callee = i ? children.name[i - 1] : root;
		struct call_sum *traced = i ? &sums.callee : &sums.root;

		sums.root.calls = 0;
		sums.callee.calls = 0;
		snprintf(filter, sizeof(filter), "%s %s", root, i ? callee : "");
		traced_suspends(vcpu, root, filter, i ? 2 : 1, nr_suspends,
				add_pass_call, &sums);
		TEST_ASSERT(sums.root.calls, "no call of %s traced", root);
		printf("bench: profile root=%s function=%s calls=%u median_us=%.1f root_median_us=%.1f\n",
		       root, callee, traced->calls,
		       traced->calls ? median_of(traced->ns, traced->calls) / 1000.0 : 0,
		       median_of(sums.root.ns, sums.root.calls) / 1000.0);
	}
	kvm_vm_free(vm);
}
