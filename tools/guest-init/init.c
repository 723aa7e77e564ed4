// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the L2 guest run by tools/vmm: suspend the guest to RAM a number
 * of times through /sys/power/state and check after each resume that
 * memory and CPUs came back.  The verdict leaves the guest the only way the
 * VMM can see it: power off (SBI SRST shutdown, the VMM exits 0) on
 * success, reboot (SRST reset, the VMM exits 1) on failure.
 *
 * Command line (from /proc/cmdline):
 *   cycles=N            suspend N times (default 1; 0 only boots)
 *   susp_expect=fail    expect every suspend to be refused by the VMM
 *                       (vmm --deny-suspend) and check the guest survives
 */
#include <errno.h>
#include <fcntl.h>
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
	bool expect_fail = false;
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

	mem = malloc(PATTERN_BYTES);
	if (!mem)
		fail("cannot allocate %lu MiB", PATTERN_BYTES >> 20);
	fill_pattern(mem);

	for (int i = 1; i <= cycles; i++) {
		double t0 = wall_seconds(), t;
		int err = suspend_to_ram();

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
	}

	say("PASS %d cycles", cycles);
	sync();
	reboot(RB_POWER_OFF);	/* SRST shutdown: the VMM exits 0 */
	fail("reboot(RB_POWER_OFF) returned: %s", strerror(errno));
}
