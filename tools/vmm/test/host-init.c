// SPDX-License-Identifier: GPL-2.0
/*
 * Stand-in /init for the L1 host, for trying tools/vmm under QEMU without
 * the project harness: runs the entries of /vmm/tests.list the way the
 * harness does (name TAB timeout TAB argv0 TAB argv1 ...; exit 0 pass,
 * 4 skip, else fail), then powers the host off.  `only=NAME` on the host
 * command line runs just that entry.
 */
#include <errno.h>
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

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run(char **argv, int timeout)
{
	double t0 = now();
	int status;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		execv(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	/* poll so that a hung test is killed after its timeout */
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now() - t0 > timeout) {
			printf("host: timeout after %d s, killing\n", timeout);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(100000);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int main(void)
{
	char line[4096], cmdline[1024] = "", *only = NULL;
	int pass = 0, fail = 0, skip = 0;
	FILE *f;

	setvbuf(stdout, NULL, _IONBF, 0);
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);

	f = fopen("/proc/cmdline", "r");
	if (f && fgets(cmdline, sizeof(cmdline), f)) {
		only = strstr(cmdline, "only=");
		if (only) {
			only += 5;
			only[strcspn(only, " \n")] = '\0';
		}
	}
	if (f)
		fclose(f);

	f = fopen("/vmm/tests.list", "r");
	if (!f) {
		perror("host: /vmm/tests.list");
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		char *argv[64], *name, *tmo, *p;
		int argc = 0, rc;
		double t0;

		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		name = strtok_r(line, "\t", &p);
		tmo = strtok_r(NULL, "\t", &p);
		while (argc < 63 && (argv[argc] = strtok_r(NULL, "\t", &p)))
			argc++;
		argv[argc] = NULL;
		if (!name || !tmo || !argc)
			continue;
		if (only && strcmp(only, name))
			continue;

		printf("host: === %s (timeout %s s)\n", name, tmo);
		t0 = now();
		rc = run(argv, atoi(tmo));
		printf("host: === %s: %s (exit %d, %.1f s)\n", name,
		       rc == 0 ? "PASS" : rc == 4 ? "SKIP" : "FAIL", rc, now() - t0);
		if (rc == 0)
			pass++;
		else if (rc == 4)
			skip++;
		else
			fail++;
	}
	fclose(f);
out:
	printf("host: %d passed, %d failed, %d skipped\n", pass, fail, skip);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
