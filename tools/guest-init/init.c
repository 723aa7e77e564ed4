// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the L2 guest run by tools/vmm: suspend the guest to RAM a number
 * of times through /sys/power/state and check after each resume that
 * memory and CPUs came back.  The verdict leaves the guest the only way the
 * VMM can see it: power off (SBI SRST shutdown, the VMM exits 0) on
 * success, reboot (SRST reset, the VMM exits 1) on failure.
 *
 * After each resume it also checks that the guest is as fast as before:
 * the CPU hotplug around the suspend (from the kernel log) and an IPI to
 * every CPU (moving itself from CPU to CPU, which the scheduler does with
 * IPIs; the IPI counts of /proc/interrupts must rise on each CPU) must not
 * take longer than hotplug_max_ms. A CPU whose interrupt controller lost
 * its state on resume gets its IPIs late, when a timer wakes it.
 *
 * Command line (from /proc/cmdline):
 *   cycles=N            suspend N times (default 1; 0 only boots)
 *   susp_expect=fail    expect every suspend to be refused by the VMM
 *                       (vmm --deny-suspend) and check the guest survives
 *   hotplug_max_ms=MS   slowest CPU hotplug step or task move allowed
 *                       (default 300)
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

#define PATTERN_BYTES	(8UL << 20)
#define IPI_ROUNDS	5

static uint64_t timebase;

static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "guest: ");
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	/* unbuffered: the last words before a power-off must get out */
	if (write(1, buf, n) < 0)
		return;
}

static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
	char buf[400];
	va_list ap;

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
static double wall_seconds(void)
{
	uint64_t t;

	__asm__ volatile("rdtime %0" : "=r"(t));
	return timebase ? (double)t / timebase : 0;
}

static uint64_t pattern(size_t i)
{
	return (i * 0x9e3779b97f4a7c15ULL) ^ 0x5a5a0f0fa5a5f0f0ULL;
}

static void fill_pattern(uint64_t *mem)
{
	for (size_t i = 0; i < PATTERN_BYTES / 8; i++)
		mem[i] = pattern(i);
}

static void check_pattern(const uint64_t *mem, int cycle)
{
	for (size_t i = 0; i < PATTERN_BYTES / 8; i++)
		if (mem[i] != pattern(i))
			fail("cycle %d: memory corrupted at word %zu: 0x%llx != 0x%llx",
			     cycle, i, (unsigned long long)mem[i],
			     (unsigned long long)pattern(i));
}

/*
 * CPU hotplug around one suspend, from the kernel log: the time from
 * "Disabling non-boot CPUs" to the last "CPUn: off", and from "Enabling
 * non-boot CPUs" to the last "CPUn is up", in ms; -1 where not seen.
 */
struct hotplug_times {
	double	down_ms, up_ms;
};

static int kmsg_fd = -1;

static void kmsg_open(void)
{
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg_fd < 0)
		fail("opening /dev/kmsg: %s", strerror(errno));
	lseek(kmsg_fd, 0, SEEK_END);	/* only what comes from now on */
}

/* Read the kernel log written since the last call */
static struct hotplug_times kmsg_hotplug_times(void)
{
	double t_disable = -1, t_off = -1, t_enable = -1, t_up = -1, t;
	struct hotplug_times ht = { -1, -1 };
	unsigned long long usec;
	char rec[1024], *msg;
	ssize_t n;

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
		t = usec / 1000.0;
		if (strstr(msg, "Disabling non-boot CPUs"))
			t_disable = t;
		else if (strstr(msg, "Enabling non-boot CPUs"))
			t_enable = t;
		else if (!strncmp(msg, "CPU", 3) && strstr(msg, ": off"))
			t_off = t;
		else if (!strncmp(msg, "CPU", 3) && strstr(msg, " is up"))
			t_up = t;
	}
	if (t_disable >= 0 && t_off >= t_disable)
		ht.down_ms = t_off - t_disable;
	if (t_enable >= 0 && t_up >= t_enable)
		ht.up_ms = t_up - t_enable;
	return ht;
}

/* Sum of the IPI rows of /proc/interrupts for each CPU */
static int ipi_counts(unsigned long long *count, int max_cpus)
{
	char line[1024], *p, *end;
	int cpus = 0, i;
	FILE *f;

	f = fopen("/proc/interrupts", "r");
	if (!f)
		fail("opening /proc/interrupts: %s", strerror(errno));
	memset(count, 0, max_cpus * sizeof(*count));
	/* the header names one column per online CPU */
	if (fgets(line, sizeof(line), f))
		for (p = line; (p = strstr(p, "CPU")); p += 3)
			cpus++;
	while (fgets(line, sizeof(line), f)) {
		p = line + strspn(line, " ");
		if (strncmp(p, "IPI", 3))
			continue;
		p = strchr(p, ':');
		if (!p)
			continue;
		p++;
		for (i = 0; i < cpus && i < max_cpus; i++) {
			count[i] += strtoull(p, &end, 10);
			if (end == p)
				break;
			p = end;
		}
	}
	fclose(f);
	return cpus;
}

/*
 * Move this task to every CPU and back to CPU 0: each move wakes the
 * target CPU's stopper thread with an IPI. Returns the slowest move in ms.
 */
static double ipi_round(int cpus)
{
	double slowest = 0, t0, t;
	cpu_set_t set;

	for (int i = 1; i <= cpus; i++) {
		CPU_ZERO(&set);
		CPU_SET(i % cpus, &set);
		t0 = wall_seconds();
		if (sched_setaffinity(0, sizeof(set), &set))
			fail("moving to CPU %d: %s", i % cpus, strerror(errno));
		t = (wall_seconds() - t0) * 1000;
		if (t > slowest)
			slowest = t;
	}
	return slowest;
}

/* returns 0, or the errno of the failed write */
static int suspend_to_ram(void)
{
	int fd, err = 0;

	fd = open("/sys/power/state", O_WRONLY);
	if (fd < 0)
		fail("opening /sys/power/state: %s", strerror(errno));
	if (write(fd, "mem", 3) != 3)
		err = errno;
	close(fd);
	return err;
}

int main(void)
{
	char cmdline[1024], present[64], online[64], buf[16];
	unsigned long long ipi_before[64], ipi_after[64];
	double hotplug_max_ms = 300, ipi_ms;
	struct hotplug_times ht;
	bool expect_fail = false;
	int cpus;
	unsigned char tb[4];
	const char *arg;
	uint64_t *mem;
	int cycles = 1;

	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	if (mount("proc", "/proc", "proc", 0, NULL))
		fail("mounting /proc: %s", strerror(errno));
	if (mount("sysfs", "/sys", "sysfs", 0, NULL))
		fail("mounting /sys: %s", strerror(errno));
	if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) && errno != EBUSY)
		fail("mounting /dev: %s", strerror(errno));

	read_or_fail("/proc/cmdline", cmdline, sizeof(cmdline));
	arg = cmdline_arg(cmdline, "cycles");
	if (arg)
		cycles = atoi(arg);
	arg = cmdline_arg(cmdline, "susp_expect");
	if (arg && !strncmp(arg, "fail", 4))
		expect_fail = true;
	arg = cmdline_arg(cmdline, "hotplug_max_ms");
	if (arg)
		hotplug_max_ms = atoi(arg);

	/* big-endian u32 straight from the DT the VMM wrote */
	{
		int fd = open("/sys/firmware/devicetree/base/cpus/timebase-frequency",
			      O_RDONLY);

		if (fd >= 0 && read(fd, tb, 4) == 4)
			timebase = (uint64_t)tb[0] << 24 | tb[1] << 16 |
				   tb[2] << 8 | tb[3];
		if (fd >= 0)
			close(fd);
	}

	read_or_fail("/sys/devices/system/cpu/present", present, sizeof(present));
	read_or_fail("/sys/devices/system/cpu/online", online, sizeof(online));
	read_or_fail("/proc/uptime", buf, sizeof(buf));
	say("init started, uptime %.*s s, cpus online %s, %d cycle(s)%s",
	    (int)strcspn(buf, " "), buf, online, cycles,
	    expect_fail ? ", expecting suspend to be refused" : "");

	/*
	 * Without SBI SUSP the kernel quietly maps "mem" to suspend-to-idle,
	 * and with no device to wake it this guest would sleep forever.
	 */
	if (cycles > 0) {
		char mem_sleep[64];
		int fd;

		read_or_fail("/sys/power/mem_sleep", mem_sleep, sizeof(mem_sleep));
		if (!strstr(mem_sleep, "deep"))
			fail("no suspend to RAM (mem_sleep: %s): SBI SUSP not offered?",
			     mem_sleep);
		fd = open("/sys/power/mem_sleep", O_WRONLY);
		if (fd < 0 || write(fd, "deep", 4) != 4)
			fail("selecting deep in /sys/power/mem_sleep: %s",
			     strerror(errno));
		close(fd);
	}

	kmsg_open();
	mem = malloc(PATTERN_BYTES);
	if (!mem)
		fail("cannot allocate %lu MiB", PATTERN_BYTES >> 20);
	fill_pattern(mem);

	for (int i = 1; i <= cycles; i++) {
		double t0, t;
		int err;

		kmsg_hotplug_times();	/* skip what came before */
		t0 = wall_seconds();
		err = suspend_to_ram();

		t = wall_seconds() - t0;
		if (!expect_fail && err)
			fail("cycle %d/%d: echo mem > /sys/power/state: %s",
			     i, cycles, strerror(err));
		if (expect_fail && !err)
			fail("cycle %d/%d: suspend succeeded but should have been refused",
			     i, cycles);

		check_pattern(mem, i);
		read_or_fail("/sys/devices/system/cpu/online", online, sizeof(online));
		if (strcmp(online, present))
			fail("cycle %d/%d: cpus online %s, expected %s", i, cycles,
			     online, present);
		if (expect_fail)
			say("cycle %d/%d: suspend refused (%s) as expected, memory intact, cpus online %s (%.3f s)",
			    i, cycles, strerror(err), online, t);
		else
			say("cycle %d/%d: suspend ok, memory intact, cpus online %s (%.3f s)",
			    i, cycles, online, t);

		ht = kmsg_hotplug_times();
		/*
		 * A move to a CPU that is not idle may need no IPI: go round
		 * again until each CPU took one. A CPU that cannot take IPIs
		 * never does.
		 */
		cpus = ipi_counts(ipi_before, 64);
		ipi_ms = 0;
		for (int round = 0, missing = 1; missing && round < IPI_ROUNDS; round++) {
			double ms = ipi_round(cpus);

			if (ms > ipi_ms)
				ipi_ms = ms;
			ipi_counts(ipi_after, 64);
			missing = 0;
			for (int c = 0; c < cpus && c < 64; c++)
				missing += cpus > 1 && ipi_after[c] <= ipi_before[c];
		}
		say("cycle %d/%d: cpu hotplug down %.1f ms, up %.1f ms; slowest move %.1f ms",
		    i, cycles, ht.down_ms, ht.up_ms, ipi_ms);
		for (int c = 0; c < cpus && c < 64; c++) {
			say("cycle %d/%d: cpu%d IPIs %llu -> %llu", i, cycles, c,
			    ipi_before[c], ipi_after[c]);
			if (cpus > 1 && ipi_after[c] <= ipi_before[c])
				fail("cycle %d/%d: cpu%d took no IPI in %d rounds",
				     i, cycles, c, IPI_ROUNDS);
		}
		if (ht.down_ms > hotplug_max_ms || ht.up_ms > hotplug_max_ms ||
		    ipi_ms > hotplug_max_ms)
			fail("cycle %d/%d: slower than %.0f ms (hotplug down %.1f, up %.1f, slowest move %.1f)",
			     i, cycles, hotplug_max_ms, ht.down_ms, ht.up_ms, ipi_ms);
	}

	say("PASS %d cycles", cycles);
	sync();
	reboot(RB_POWER_OFF);	/* SRST shutdown: the VMM exits 0 */
	fail("reboot(RB_POWER_OFF) returned: %s", strerror(errno));
}
