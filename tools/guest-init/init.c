// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the L2 guest run by tools/vmm: suspend the guest to RAM a number
 * of times through /sys/power/state and check after each resume that
 * memory and CPUs came back.  The verdict leaves the guest the only way the
 * VMM can see it: power off (SBI SRST shutdown, the VMM exits 0) on
 * success, reboot (SRST reset, the VMM exits 1) on failure.
 *
 * After each resume it also checks that every CPU takes IPIs again: it
 * moves itself from CPU to CPU, which the scheduler does with IPIs, and
 * the IPI count of /proc/interrupts must rise on each CPU. A CPU whose
 * interrupt controller lost its state on resume takes none (its work waits
 * for a timer). It reports how long the CPU hotplug around the suspend
 * (from the kernel log) and the moves took, and fails a cycle slower than
 * hotplug_max_ms only when asked: under emulation those times follow the
 * load of the machine running it more than the kernel's.
 *
 * A cycle also fails when its kernel log says that a CPU was not seen
 * stopped after it went offline ("may not have stopped") or did not come
 * back ("failed to start"): nothing is retried, a denied suspend fails.
 *
 * Command line (from /proc/cmdline):
 *   cycles=N            suspend N times (default 1; 0 only boots)
 *   susp_expect=fail    expect every suspend to be refused by the VMM
 *                       (vmm --deny-suspend) and check the guest survives
 *   hotplug_max_ms=MS   slowest CPU hotplug step or task move allowed
 *                       (default 0: the times are reported, none fails)
 *   pattern_mib=N       size of the memory pattern (default 8, 0 for none);
 *                       it is written before every suspend with values that
 *                       depend on the cycle number and checked after it
 *   report_every=N      print the per-cycle lines for cycle 1 only, then one
 *                       summary line per N cycles and the last cycle (default
 *                       1: every cycle in full); failures are always printed
 *   pattern_poison=N    flip one bit of the pattern after cycle N's resume,
 *                       to see the check fail (checks the check)
 *   bench=1             the guest's half of the suspend benchmark (vmm
 *                       --bench): print "bench: suspend K" right before
 *                       each write of "mem", and after it a line
 *                       "bench-guest: cycle=K echo_ticks=.. exit_log_ticks=..
 *                       done_ticks=.. marker_uncertainty_ticks=..
 *                       cpus_down_us=.. cpus_up_us=..", in time CSR ticks
 *                       but for the CPU hotplug times (bench_report())
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>

#define IPI_ROUNDS	5
#define MAX_CPUS	64

static uint64_t timebase;

#define ARRAY_SIZE(a)	((int)(sizeof(a) / sizeof((a)[0])))

/* What the guest kernel logs when a CPU did not stop or start on time */
static const char * const hotplug_trouble[] = {
	"may not have stopped",		/* arch_cpuhp_cleanup_dead_cpu() */
	"failed to start",		/* __cpu_up() */
};

/* One line on the console; false if the write failed */
static bool console_vline(const char *prefix, const char *fmt, va_list ap)
{
	char buf[512];
	int n;

	n = snprintf(buf, sizeof(buf), "%s", prefix);
	n += vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	/* unbuffered: the last words before a power-off must get out */
	return write(1, buf, n) >= 0;
}

static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	console_vline("guest: ", fmt, ap);
	va_end(ap);
}

/* the kernel log of the current cycle, printed with a failure */
static char kmsg_text[16384];
static size_t kmsg_len;

static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
	char buf[400];
	va_list ap;

	for (char *p = kmsg_text, *nl; kmsg_len && *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		say("kmsg: %.*s", (int)(nl - p), p);
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	say("FAIL %s", buf);
	sync();
	reboot(RB_AUTOBOOT);	/* SRST reset: the VMM reads it as failure */
	for (;;)
		pause();
}

static int read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return n;
}

static void read_or_fail(const char *path, char *buf, size_t len)
{
	if (read_file(path, buf, len) < 0)
		fail("reading %s: %s", path, strerror(errno));
}

static const char *cmdline_arg(const char *cmdline, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = cmdline; (p = strstr(p, key)); p += klen)
		if ((p == cmdline || p[-1] == ' ') && p[klen] == '=')
			return p + klen + 1;
	return NULL;
}

/*
 * Time that includes the suspend itself: the guest's CLOCK_MONOTONIC stops
 * while suspended (the riscv clocksource is not SUSPEND_NONSTOP), but the
 * time CSR the hypervisor gives us keeps counting.
 */
static inline uint64_t rdtime(void)
{
	uint64_t t;

	__asm__ volatile("rdtime %0" : "=r"(t));
	return t;
}

static double wall_seconds(void)
{
	return timebase ? (double)rdtime() / timebase : 0;
}

/*
 * The pattern of one cycle: every word differs from its neighbours and from
 * the same word in the previous cycle, so a page that kept (or got back) the
 * contents of an earlier cycle, or of another page, is caught.
 */
static inline uint64_t pattern(size_t i, int cycle)
{
	return (i * 0x9e3779b97f4a7c15ULL) ^
	       ((uint64_t)cycle * 0xd1b54a32d192ed03ULL) ^ 0x5a5a0f0fa5a5f0f0ULL;
}

static void fill_pattern(uint64_t *mem, size_t words, int cycle)
{
	for (size_t i = 0; i < words; i++)
		mem[i] = pattern(i, cycle);
}

static void check_pattern(const uint64_t *mem, size_t words, int cycle,
			  int cycles)
{
	size_t bad = 0, first = 0;

	for (size_t i = 0; i < words; i++)
		if (mem[i] != pattern(i, cycle) && !bad++)
			first = i;
	if (bad)
		fail("cycle %d/%d: memory corrupted: %zu of %zu words differ, first at %p (word %zu): 0x%016llx, expected 0x%016llx",
		     cycle, cycles, bad, words, (void *)&mem[first], first,
		     (unsigned long long)mem[first],
		     (unsigned long long)pattern(first, cycle));
}

/*
 * CPU hotplug around one suspend, from the kernel log: the time from
 * "Disabling non-boot CPUs" to the last "CPUn: off", and from "Enabling
 * non-boot CPUs" to the last "CPUn is up", in ms; -1 where not seen. For
 * bench=1 also the printk time stamps of "PM: suspend exit" and of our
 * marker (bench_report()), in us; -1 where not seen.
 */
struct hotplug_times {
	double		down_ms, up_ms;
	long long	exit_us, marker_us;
};

#define BENCH_MARKER	"bench: marker"

static int kmsg_fd = -1;

static void kmsg_open(void)
{
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg_fd < 0)
		fail("opening /dev/kmsg: %s", strerror(errno));
	lseek(kmsg_fd, 0, SEEK_END);	/* only what comes from now on */
}

/*
 * Read the kernel log written since the last call; keep its text for
 * fail() (the console is quiet in long runs, the log is not)
 */
static struct hotplug_times kmsg_hotplug_times(void)
{
	double t_disable = -1, t_off = -1, t_enable = -1, t_up = -1, t;
	struct hotplug_times ht = { -1, -1, -1, -1 };
	unsigned long long usec;
	char rec[1024], *msg;
	ssize_t n;

	kmsg_len = 0;
	kmsg_text[0] = '\0';
	for (;;) {
		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			break;
		rec[n] = '\0';
		/* "prio,seq,usec,flags;message" */
		msg = strchr(rec, ';');
		if (!msg || sscanf(rec, "%*u,%*u,%llu", &usec) != 1)
			continue;
		msg++;
		if (kmsg_len < sizeof(kmsg_text) - 1) {
			int n = snprintf(kmsg_text + kmsg_len,
					 sizeof(kmsg_text) - kmsg_len,
					 "[%llu.%06llu] %.*s\n", usec / 1000000,
					 usec % 1000000, (int)strcspn(msg, "\n"), msg);

			kmsg_len += n;
			if (kmsg_len >= sizeof(kmsg_text))
				kmsg_len = sizeof(kmsg_text) - 1;
		}
		t = usec / 1000.0;
		if (strstr(msg, "Disabling non-boot CPUs"))
			t_disable = t;
		else if (strstr(msg, "Enabling non-boot CPUs"))
			t_enable = t;
		else if (!strncmp(msg, "CPU", 3) && strstr(msg, ": off"))
			t_off = t;
		else if (!strncmp(msg, "CPU", 3) && strstr(msg, " is up"))
			t_up = t;
		else if (!strncmp(msg, "PM: suspend exit", 16))
			ht.exit_us = usec;
		else if (!strncmp(msg, BENCH_MARKER, strlen(BENCH_MARKER)))
			ht.marker_us = usec;
	}
	if (t_disable >= 0 && t_off >= t_disable)
		ht.down_ms = t_off - t_disable;
	if (t_enable >= 0 && t_up >= t_enable)
		ht.up_ms = t_up - t_enable;
	return ht;
}

/*
 * Sum of the IPI rows of /proc/interrupts for each CPU, indexed by CPU
 * number (the header names one column per online CPU, "CPU0 CPU2 ..." if
 * one is offline). Returns the number of columns.
 */
static int ipi_counts(unsigned long long *count, int max_cpus)
{
	char line[1024], *p, *end;
	int col[MAX_CPUS], cols = 0, i;
	FILE *f;

	f = fopen("/proc/interrupts", "r");
	if (!f)
		fail("opening /proc/interrupts: %s", strerror(errno));
	memset(count, 0, max_cpus * sizeof(*count));
	if (fgets(line, sizeof(line), f))
		for (p = line; (p = strstr(p, "CPU")) && cols < MAX_CPUS; p += 3)
			col[cols++] = atoi(p + 3);
	while (fgets(line, sizeof(line), f)) {
		p = line + strspn(line, " ");
		if (strncmp(p, "IPI", 3))
			continue;
		p = strchr(p, ':');
		if (!p)
			continue;
		p++;
		for (i = 0; i < cols; i++) {
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p)
				break;
			if (col[i] >= 0 && col[i] < max_cpus)
				count[col[i]] += v;
			p = end;
		}
	}
	fclose(f);
	return cols;
}

/* "0-1,3" -> bit mask of CPUs */
static uint64_t cpu_mask(const char *list)
{
	uint64_t mask = 0;
	const char *p = list;
	char *end;

	while (*p) {
		long a = strtol(p, &end, 10), b = a;

		if (end == p)
			break;
		p = end;
		if (*p == '-') {
			b = strtol(p + 1, &end, 10);
			p = end;
		}
		for (long c = a; c <= b && c < MAX_CPUS; c++)
			mask |= 1ULL << c;
		if (*p == ',')
			p++;
	}
	return mask;
}

/*
 * Move this task to every CPU of @mask and back to the first: each move
 * wakes the target CPU's stopper thread with an IPI. Returns the slowest
 * move in ms.
 */
static double ipi_round(uint64_t mask)
{
	double slowest = 0, t0, t;
	int order[MAX_CPUS], n = 0;
	cpu_set_t set;

	for (int c = 0; c < MAX_CPUS; c++)
		if (mask & (1ULL << c))
			order[n++] = c;
	for (int i = 1; i <= n; i++) {
		int cpu = order[i % n];

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		t0 = wall_seconds();
		if (sched_setaffinity(0, sizeof(set), &set))
			fail("moving to CPU %d: %s", cpu, strerror(errno));
		t = (wall_seconds() - t0) * 1000;
		if (t > slowest)
			slowest = t;
	}
	return slowest;
}

/*
 * Returns 0, or the errno of the failed write; the time CSR right before
 * the write and right after it returned go to @before and @after.
 */
static int suspend_to_ram(uint64_t *before, uint64_t *after)
{
	int fd, err = 0;

	fd = open("/sys/power/state", O_WRONLY);
	if (fd < 0)
		fail("opening /sys/power/state: %s", strerror(errno));
	*before = rdtime();
	if (write(fd, "mem", 3) != 3)
		err = errno;
	*after = rdtime();
	close(fd);
	return err;
}

/*
 * bench=1: the times of one cycle in time CSR ticks, the clock the VMM
 * reads as the guest's time (KVM's timer "time" register). The printk
 * clock of the kernel log is sched_clock, the same counter but stopped
 * from syscore suspend to syscore resume: its offset to rdtime grows by
 * the time spent suspended. "PM: suspend exit" comes after the resume, so
 * a marker written after the suspend, with rdtime read around it, gives
 * the offset that holds for it; a marker before the suspend would not.
 */
struct bench_cycle {
	uint64_t	echo, done;		/* around the write of "mem" */
	uint64_t	marker_lo, marker_hi;	/* around the marker's write */
};

/*
 * bench=1's lines go out bare, as the VMM and scripts/check/bench-report.py
 * match them
 */
static void __attribute__((format(printf, 1, 2))) bench_line(const char *fmt, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	ok = console_vline("", fmt, ap);
	va_end(ap);
	if (!ok)
		fail("bench: writing to the console: %s", strerror(errno));
}

/* what the VMM times its side from: the console line before the write */
static void bench_echo(int cycle)
{
	bench_line("bench: suspend %d", cycle);
}

static void bench_marker(int cycle, struct bench_cycle *b)
{
	char buf[64];
	int fd, n;

	/*
	 * A new open every time: /dev/kmsg rate-limits writes per open file
	 * (10 in 5 s) and drops the rest. Level 7 keeps it off the console.
	 */
	fd = open("/dev/kmsg", O_WRONLY);
	if (fd < 0)
		fail("bench: opening /dev/kmsg for writing: %s", strerror(errno));
	n = snprintf(buf, sizeof(buf), "<7>" BENCH_MARKER " %d\n", cycle);
	b->marker_lo = rdtime();
	if (write(fd, buf, n) != n)
		fail("bench: writing the marker to /dev/kmsg: %s", strerror(errno));
	b->marker_hi = rdtime();
	close(fd);
}

static void bench_report(int cycle, const struct bench_cycle *b,
			 const struct hotplug_times *ht)
{
	uint64_t mid = b->marker_lo + (b->marker_hi - b->marker_lo) / 2;
	long long exit_ticks;

	if (ht->exit_us < 0 || ht->marker_us < 0)
		fail("cycle %d: bench: no \"%s\" in the kernel log", cycle,
		     ht->exit_us < 0 ? "PM: suspend exit" : BENCH_MARKER);
	/* the marker's rdtime window stands for its time stamp */
	exit_ticks = mid - (ht->marker_us - ht->exit_us) * (long long)timebase /
			   1000000;
	/* CPU hotplug: intervals of the printk clock, on one side of the sleep */
	bench_line("bench-guest: cycle=%d echo_ticks=%llu exit_log_ticks=%lld done_ticks=%llu marker_uncertainty_ticks=%llu cpus_down_us=%lld cpus_up_us=%lld",
		   cycle, (unsigned long long)b->echo, exit_ticks,
		   (unsigned long long)b->done,
		   (unsigned long long)(b->marker_hi - b->marker_lo + 1) / 2,
		   ht->down_ms < 0 ? -1 : (long long)(ht->down_ms * 1000),
		   ht->up_ms < 0 ? -1 : (long long)(ht->up_ms * 1000));
}

/* What report_every=N sums up over the cycles since the last report */
struct period {
	int	first, n, longest_at, no_hotplug;
	double	sum_s, longest_s, down_ms, up_ms, move_ms, fill_ms, check_ms;
};

static void period_add(struct period *p, int cycle, double t, double down_ms,
		       double up_ms, double move_ms, double fill_ms,
		       double check_ms)
{
	if (!p->n++)
		p->first = cycle;
	p->sum_s += t;
	if (t > p->longest_s) {
		p->longest_s = t;
		p->longest_at = cycle;
	}
	if (down_ms < 0 || up_ms < 0)
		p->no_hotplug++;
#define MAX_OF(f, v) do { if ((v) > p->f) p->f = (v); } while (0)
	MAX_OF(down_ms, down_ms);
	MAX_OF(up_ms, up_ms);
	MAX_OF(move_ms, move_ms);
	MAX_OF(fill_ms, fill_ms);
	MAX_OF(check_ms, check_ms);
#undef MAX_OF
}

/* The command line's settings (see the top of this file) */
struct options {
	int		cycles, report_every, poison_cycle;
	double		hotplug_max_ms;
	unsigned long	pattern_mib;
	bool		expect_fail, bench;
};

static void parse_options(struct options *o)
{
	char cmdline[1024];
	const char *arg;

	*o = (struct options){ .cycles = 1, .report_every = 1,
			       .pattern_mib = 8 };
	read_or_fail("/proc/cmdline", cmdline, sizeof(cmdline));
	arg = cmdline_arg(cmdline, "cycles");
	if (arg)
		o->cycles = atoi(arg);
	arg = cmdline_arg(cmdline, "susp_expect");
	if (arg && !strncmp(arg, "fail", 4))
		o->expect_fail = true;
	arg = cmdline_arg(cmdline, "hotplug_max_ms");
	if (arg)
		o->hotplug_max_ms = atoi(arg);
	arg = cmdline_arg(cmdline, "pattern_mib");
	if (arg)
		o->pattern_mib = strtoul(arg, NULL, 10);
	arg = cmdline_arg(cmdline, "pattern_poison");
	if (arg)
		o->poison_cycle = atoi(arg);
	arg = cmdline_arg(cmdline, "report_every");
	if (arg && atoi(arg) > 0)
		o->report_every = atoi(arg);
	arg = cmdline_arg(cmdline, "bench");
	if (arg && atoi(arg) > 0)
		o->bench = true;
}

static void mount_filesystems(void)
{
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	if (mount("proc", "/proc", "proc", 0, NULL))
		fail("mounting /proc: %s", strerror(errno));
	if (mount("sysfs", "/sys", "sysfs", 0, NULL))
		fail("mounting /sys: %s", strerror(errno));
	if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) && errno != EBUSY)
		fail("mounting /dev: %s", strerror(errno));
}

/* big-endian u32 straight from the DT the VMM wrote */
static void read_timebase(void)
{
	int fd = open("/sys/firmware/devicetree/base/cpus/timebase-frequency",
		      O_RDONLY);
	unsigned char tb[4];

	if (fd < 0)
		return;
	if (read(fd, tb, 4) == 4)
		timebase = (uint64_t)tb[0] << 24 | tb[1] << 16 | tb[2] << 8 | tb[3];
	close(fd);
}

/*
 * Without SBI SUSP the kernel quietly maps "mem" to suspend-to-idle, and
 * with no device to wake it this guest would sleep forever.
 */
static void select_suspend_to_ram(void)
{
	char mem_sleep[64];
	int fd;

	read_or_fail("/sys/power/mem_sleep", mem_sleep, sizeof(mem_sleep));
	if (!strstr(mem_sleep, "deep"))
		fail("no suspend to RAM (mem_sleep: %s): SBI SUSP not offered?",
		     mem_sleep);
	fd = open("/sys/power/mem_sleep", O_WRONLY);
	if (fd < 0 || write(fd, "deep", 4) != 4)
		fail("selecting deep in /sys/power/mem_sleep: %s", strerror(errno));
	close(fd);
}

/* What one cycle measured */
struct cycle {
	int			i, n;		/* cycle i of n */
	bool			full;		/* print its lines */
	uint64_t		mask;		/* the CPUs online before it */
	int			ncpus;
	char			online[64];
	double			t, fill_ms, check_ms, ipi_ms;
	struct hotplug_times	ht;
};

/*
 * Suspend to RAM once, with the memory pattern written before and checked
 * after; fail unless the suspend did what the command line expects and
 * every CPU came back.
 */
static void suspend_once(const struct options *o, struct cycle *c,
			 uint64_t *mem, size_t words)
{
	struct bench_cycle bc = { 0 };
	char online[64];
	double t0;
	int err;

	t0 = wall_seconds();
	fill_pattern(mem, words, c->i);
	c->fill_ms = (wall_seconds() - t0) * 1000;

	kmsg_hotplug_times();	/* skip what came before */
	kmsg_len = 0;
	t0 = wall_seconds();
	if (o->bench)
		bench_echo(c->i);
	err = suspend_to_ram(&bc.echo, &bc.done);
	if (o->bench)
		bench_marker(c->i, &bc);
	c->ht = kmsg_hotplug_times();
	c->t = wall_seconds() - t0;
	/*
	 * A hart that the CPU hotplug did not see stopped is what makes KVM
	 * deny the suspend, and what keeps that CPU offline for good when it
	 * is started again too early: fail on either, even in a cycle that
	 * got through.
	 */
	for (int m = 0; m < ARRAY_SIZE(hotplug_trouble); m++) {
		if (strstr(kmsg_text, hotplug_trouble[m]))
			fail("cycle %d/%d: the kernel logged \"%s\" (echo mem: %s)",
			     c->i, c->n, hotplug_trouble[m],
			     err ? strerror(err) : "ok");
	}
	if (!o->expect_fail && err)
		fail("cycle %d/%d: echo mem > /sys/power/state: %s",
		     c->i, c->n, strerror(err));
	if (o->expect_fail && !err)
		fail("cycle %d/%d: suspend succeeded but should have been refused",
		     c->i, c->n);

	if (c->i == o->poison_cycle && words)
		mem[words / 2 + 3] ^= 1ULL << 17;
	t0 = wall_seconds();
	check_pattern(mem, words, c->i, c->n);
	c->check_ms = (wall_seconds() - t0) * 1000;
	read_or_fail("/sys/devices/system/cpu/online", online, sizeof(online));
	if (strcmp(online, c->online))
		fail("cycle %d/%d: cpus online %s, expected %s", c->i, c->n,
		     online, c->online);
	if (o->expect_fail && c->full)
		say("cycle %d/%d: suspend refused (%s) as expected, memory intact, cpus online %s (%.3f s)",
		    c->i, c->n, strerror(err), online, c->t);
	else if (c->full)
		say("cycle %d/%d: suspend ok, memory intact, cpus online %s (%.3f s)",
		    c->i, c->n, online, c->t);
	if (o->bench && !o->expect_fail)
		bench_report(c->i, &bc, &c->ht);
}

/*
 * Every CPU of the cycle must take an IPI. A move to a CPU that is not idle
 * may need no IPI: go round again until each CPU took one. A CPU that
 * cannot take IPIs never does.
 */
static void check_ipis(struct cycle *c)
{
	unsigned long long before[MAX_CPUS], after[MAX_CPUS];

	ipi_counts(before, MAX_CPUS);
	c->ipi_ms = 0;
	for (int round = 0, missing = 1; missing && round < IPI_ROUNDS; round++) {
		double ms = ipi_round(c->mask);

		if (ms > c->ipi_ms)
			c->ipi_ms = ms;
		ipi_counts(after, MAX_CPUS);
		missing = 0;
		for (int cpu = 0; cpu < MAX_CPUS; cpu++)
			missing += c->ncpus > 1 && (c->mask & (1ULL << cpu)) &&
				   after[cpu] <= before[cpu];
	}
	if (c->full)
		say("cycle %d/%d: cpu hotplug down %.1f ms, up %.1f ms; slowest move %.1f ms",
		    c->i, c->n, c->ht.down_ms, c->ht.up_ms, c->ipi_ms);
	for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
		if (!(c->mask & (1ULL << cpu)))
			continue;
		if (c->full)
			say("cycle %d/%d: cpu%d IPIs %llu -> %llu", c->i, c->n,
			    cpu, before[cpu], after[cpu]);
		if (c->ncpus > 1 && after[cpu] <= before[cpu])
			fail("cycle %d/%d: cpu%d took no IPI in %d rounds (IPIs %llu -> %llu)",
			     c->i, c->n, cpu, IPI_ROUNDS, before[cpu], after[cpu]);
	}
}

int main(void)
{
	char present[64], online[64];
	double t_start, total = 0, longest = 0;
	struct period period = { 0 };
	struct options o;
	int longest_at = 0;
	uint64_t *mem = NULL;
	size_t words;

	mount_filesystems();
	parse_options(&o);
	words = (o.pattern_mib << 20) / sizeof(uint64_t);
	read_timebase();

	read_or_fail("/sys/devices/system/cpu/present", present, sizeof(present));
	read_or_fail("/sys/devices/system/cpu/online", online, sizeof(online));
	{
		char uptime[16];

		read_or_fail("/proc/uptime", uptime, sizeof(uptime));
		say("init started, uptime %.*s s, cpus online %s, %d cycle(s), %lu MiB pattern%s%s",
		    (int)strcspn(uptime, " "), uptime, online, o.cycles,
		    o.pattern_mib,
		    o.expect_fail ? ", expecting suspend to be refused" : "",
		    o.report_every > 1 ? ", quiet" : "");
	}
	if (o.report_every > 1)
		say("reporting cycle 1, then every %d cycles; failures always",
		    o.report_every);
	if (o.cycles > 0)
		select_suspend_to_ram();

	kmsg_open();
	if (words) {
		mem = malloc(words * sizeof(uint64_t));
		if (!mem)
			fail("cannot allocate %lu MiB", o.pattern_mib);
		fill_pattern(mem, words, 0);	/* fault the pages in */
	}

	t_start = wall_seconds();
	for (int i = 1; i <= o.cycles; i++) {
		struct cycle c = { .i = i, .n = o.cycles,
				   .full = o.report_every == 1 || i == 1 };

		/* the CPUs that must come back: every one online now */
		read_or_fail("/sys/devices/system/cpu/online", c.online,
			     sizeof(c.online));
		if (strcmp(c.online, present))
			fail("cycle %d/%d: cpus online %s before the suspend, present %s",
			     i, o.cycles, c.online, present);
		c.mask = cpu_mask(c.online);
		c.ncpus = __builtin_popcountll(c.mask);

		suspend_once(&o, &c, mem, words);
		check_ipis(&c);
		if (c.full && words)
			say("cycle %d/%d: %lu MiB pattern written in %.1f ms, checked in %.1f ms",
			    i, o.cycles, o.pattern_mib, c.fill_ms, c.check_ms);
		if (o.hotplug_max_ms > 0 &&
		    (c.ht.down_ms > o.hotplug_max_ms || c.ht.up_ms > o.hotplug_max_ms ||
		     c.ipi_ms > o.hotplug_max_ms))
			fail("cycle %d/%d: slower than %.0f ms (hotplug down %.1f, up %.1f, slowest move %.1f)",
			     i, o.cycles, o.hotplug_max_ms, c.ht.down_ms,
			     c.ht.up_ms, c.ipi_ms);

		total += c.t;
		if (c.t > longest) {
			longest = c.t;
			longest_at = i;
		}
		period_add(&period, i, c.t, c.ht.down_ms, c.ht.up_ms, c.ipi_ms,
			   c.fill_ms, c.check_ms);
		if (o.report_every > 1 && (i % o.report_every == 0 || i == o.cycles)) {
			say("cycle %d/%d: cycles %d-%d ok: cpus %s back and took IPIs, %lu MiB pattern intact; echo mem mean %.3f s, longest %.3f s (cycle %d); max hotplug down %.1f ms, up %.1f ms%s, move %.1f ms; max pattern write %.1f ms, check %.1f ms",
			    i, o.cycles, period.first, i, c.online, o.pattern_mib,
			    period.sum_s / period.n, period.longest_s,
			    period.longest_at, period.down_ms, period.up_ms,
			    period.no_hotplug && c.ncpus > 1 ? " (not seen in some cycles)" : "",
			    period.move_ms, period.fill_ms, period.check_ms);
			memset(&period, 0, sizeof(period));
		}
	}

	if (o.cycles > 0)
		say("PASS %d cycles in %.1f s: echo mem mean %.3f s, longest %.3f s (cycle %d)",
		    o.cycles, wall_seconds() - t_start, total / o.cycles, longest,
		    longest_at);
	else
		say("PASS 0 cycles");
	sync();
	reboot(RB_POWER_OFF);	/* SRST shutdown: the VMM exits 0 */
	fail("reboot(RB_POWER_OFF) returned: %s", strerror(errno));
}
