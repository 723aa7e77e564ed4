// SPDX-License-Identifier: GPL-2.0
/*
 * wake-button MS CMD ARGS... - run CMD (the VMM, typically with
 * --wake-after 0) and send it SIGUSR1 every MS milliseconds until it exits,
 * like somebody pressing a wake button.  Exits with CMD's status.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	int status;
	pid_t pid;
	long ms;

	if (argc < 3) {
		fprintf(stderr, "usage: wake-button MS CMD [ARGS...]\n");
		return 2;
	}
	ms = atol(argv[1]);
	pid = fork();
	if (pid == 0) {
		execv(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	for (;;) {
		usleep(ms * 1000);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		kill(pid, SIGUSR1);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
