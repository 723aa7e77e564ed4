// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the test host's initramfs: mount what the KVM selftests need,
 * run the programs of a test list and report them as kselftest TAP on the
 * console, then power the machine off.
 *
 * A test list has one test per line, fields separated by tabs:
 *	name	timeout-seconds	/path/to/program	arg...
 * Tabs separate the arguments so that one may contain spaces. The list is
 * named by "tests=" on the kernel command line (default /etc/tests.list).
 * Exit status 0 is a pass, 4 (KSFT_SKIP) a skip, anything else a failure.
 * Output of a program is passed through with "# " in front, as the
 * kselftest runner does, so that nested TAP stays apart from ours.
 * After the last test, a kernel with kmemleak (the debug test host) is
 * scanned and its report printed with "# kmemleak: " in front, followed
 * by "# init: kmemleak: N leak(s)", which scripts/run/splat-check.sh counts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define KSFT_SKIP	4
#define MAX_TESTS	64
#define MAX_ARGS	32
#define KMEMLEAK	"/sys/kernel/debug/kmemleak"
#define KMEMLEAK_MAX_LINES	400

struct test {
	char *name;
	int timeout;
	char *argv[MAX_ARGS + 1];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void mount_fs(const char *src, const char *dir, const char *type)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, 0, NULL) && errno != EBUSY)
		printf("# init: mount %s on %s: %s\n", type, dir, strerror(errno));
}

static void cmdline_arg(const char *key, char *buf, size_t len)
{
	char line[1024], *tok, *save;
	FILE *f = fopen("/proc/cmdline", "r");

	if (!f)
		return;
	if (fgets(line, sizeof(line), f)) {
		for (tok = strtok_r(line, " \n", &save); tok;
		     tok = strtok_r(NULL, " \n", &save)) {
			if (!strncmp(tok, key, strlen(key))) {
				snprintf(buf, len, "%s", tok + strlen(key));
				break;
			}
		}
	}
	fclose(f);
}

static int read_list(const char *path, struct test *tests)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		printf("# init: cannot open test list %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *save, *field;
		int argc = 0;

		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		/* a list cut short would look like a shorter, passing one */
		if (n == MAX_TESTS) {
			printf("# init: %s has more than %d tests\n", path, MAX_TESTS);
			fclose(f);
			return -1;
		}
		tests[n].name = strdup(strtok_r(line, "\t", &save));
		field = strtok_r(NULL, "\t", &save);
		tests[n].timeout = field ? atoi(field) : 0;
		while (argc < MAX_ARGS && (field = strtok_r(NULL, "\t", &save)))
			tests[n].argv[argc++] = strdup(field);
		tests[n].argv[argc] = NULL;
		if (!argc || tests[n].timeout <= 0) {
			printf("# init: malformed line for %s in %s\n", tests[n].name, path);
			return -1;
		}
		n++;
	}
	fclose(f);
	return n;
}

/* Run one test, copying its output with a "# " prefix; returns wait status. */
static int run_test(const struct test *t, int *timed_out)
{
	char buf[4096], *dir;
	int pipefd[2], status = 0, bol = 1;
	double deadline = now() + t->timeout;
	pid_t pid;
	ssize_t len;

	*timed_out = 0;
	if (pipe2(pipefd, O_CLOEXEC))
		return -1;

	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		dir = strdup(t->argv[0]);
		if (chdir(dirname(dir)))
			perror("chdir");
		execv(t->argv[0], t->argv);
		printf("exec %s: %s\n", t->argv[0], strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		return -1;
	}

	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		len = read(pipefd[0], buf, sizeof(buf));
		if (len > 0) {
			for (ssize_t i = 0; i < len; i++) {
				if (bol)
					fputs("# ", stdout);
				putchar(buf[i]);
				bol = buf[i] == '\n';
			}
			fflush(stdout);
			continue;
		}
		if (len == 0)
			break;
		if (now() > deadline && !*timed_out) {
			*timed_out = 1;
			kill(pid, SIGKILL);
		}
		usleep(20000);
	}
	if (!bol)
		putchar('\n');
	close(pipefd[0]);

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static int kmemleak_write(const char *cmd)
{
	int fd = open(KMEMLEAK, O_WRONLY), ret = 0;

	if (fd < 0 || write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd)) {
		printf("# init: kmemleak: %s: %s\n", cmd, strerror(errno));
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * Scan twice, 6 s apart: kmemleak reports only objects older than 5 s
 * (MSECS_MIN_AGE), and an object that a pointer in a register or on a
 * stack hid from the first scan is no longer listed once the second one
 * finds it referenced again (transient false positives, kmemleak.rst).
 * Print the report and the number of unreferenced objects in it.
 */
static void kmemleak_report(void)
{
	char line[512];
	int leaks = 0, lines = 0;
	double start = now();
	FILE *f;

	if (access(KMEMLEAK, F_OK))
		return;
	if (kmemleak_write("scan"))
		return;
	sleep(6);
	if (kmemleak_write("scan"))
		return;
	f = fopen(KMEMLEAK, "r");
	if (!f) {
		printf("# init: kmemleak: %s: %s\n", KMEMLEAK, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "unreferenced object", 19))
			leaks++;
		if (lines++ < KMEMLEAK_MAX_LINES)
			printf("# kmemleak: %s%s", line,
			       strchr(line, '\n') ? "" : "\n");
	}
	fclose(f);
	if (lines > KMEMLEAK_MAX_LINES)
		printf("# kmemleak: ... %d more lines\n", lines - KMEMLEAK_MAX_LINES);
	printf("# init: kmemleak: %d leak(s) (two scans, %.1f s)\n", leaks,
	       now() - start);
}

int main(void)
{
	static struct test tests[MAX_TESTS];
	char list[256] = "/etc/tests.list";
	double uptime = 0, start;
	int n, i;
	FILE *f;

	mount_fs("proc", "/proc", "proc");
	mount_fs("sysfs", "/sys", "sysfs");
	mount_fs("devtmpfs", "/dev", "devtmpfs");
	mount_fs("debugfs", "/sys/kernel/debug", "debugfs");
	mount_fs("tmpfs", "/tmp", "tmpfs");
	setvbuf(stdout, NULL, _IOLBF, 0);

	f = fopen("/proc/uptime", "r");
	if (f) {
		if (fscanf(f, "%lf", &uptime) != 1)
			uptime = 0;
		fclose(f);
	}
	printf("# init: started %.2f s after boot, /dev/kvm %s\n", uptime,
	       access("/dev/kvm", R_OK | W_OK) ? "missing" : "present");

	cmdline_arg("tests=", list, sizeof(list));
	n = read_list(list, tests);

	printf("TAP version 13\n");
	if (n < 0) {
		printf("1..1\nnot ok 1 %s # cannot read the test list\n", list);
		n = 0;
	} else {
		printf("1..%d\n", n);
	}

	for (i = 0; i < n; i++) {
		int status, timed_out;

		printf("# selftests: kvm: %s\n", tests[i].name);
		start = now();
		status = run_test(&tests[i], &timed_out);
		printf("# %s: %.1f s\n", tests[i].name, now() - start);

		if (timed_out)
			printf("not ok %d %s # TIMEOUT %d seconds\n", i + 1,
			       tests[i].name, tests[i].timeout);
		else if (status >= 0 && WIFEXITED(status) && !WEXITSTATUS(status))
			printf("ok %d %s\n", i + 1, tests[i].name);
		else if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == KSFT_SKIP)
			printf("ok %d %s # SKIP\n", i + 1, tests[i].name);
		else if (status >= 0 && WIFSIGNALED(status))
			printf("not ok %d %s # killed by signal %d\n", i + 1,
			       tests[i].name, WTERMSIG(status));
		else
			printf("not ok %d %s # exit=%d\n", i + 1, tests[i].name,
			       status >= 0 ? WEXITSTATUS(status) : -1);
	}

	kmemleak_report();
	printf("# init: done\n");
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
