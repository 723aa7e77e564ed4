// SPDX-License-Identifier: GPL-2.0
/*
 * vmm: messages, in the order things happened. Every other file logs and
 * dies through here, so this one knows no VM and needs only libc.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "vmm.h"

static struct timespec start_ts;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static bool out_mid_line;	/* guest console left a partial line */

/* now() counts from here: first thing in main(), before any thread */
void now_init(void)
{
	clock_gettime(CLOCK_MONOTONIC, &start_ts);
}

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec - start_ts.tv_sec) +
	       (ts.tv_nsec - start_ts.tv_nsec) / 1e9;
}

/*
 * VMM messages and guest console share stdout so that the order in the log
 * is the order in which things happened; start our lines on a fresh line.
 */
static void vmm_vline(bool stamp, const char *fmt, va_list ap)
{
	pthread_mutex_lock(&out_lock);
	if (out_mid_line)
		fputc('\n', stdout);
	out_mid_line = false;
	if (stamp)
		printf("vmm: [%12.6f] ", now());
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

void vmm_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmm_vline(true, fmt, ap);
	va_end(ap);
}

void vmm_line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmm_vline(false, fmt, ap);
	va_end(ap);
}

/*
 * @len > 0 bytes of guest console. @tap, if any, sees them under the same
 * lock as stdout does: whole lines, in the order they were printed.
 */
void console_write(const void *buf, size_t len,
		   void (*tap)(const char *buf, size_t len))
{
	pthread_mutex_lock(&out_lock);
	if (tap)
		tap(buf, len);
	fwrite(buf, 1, len, stdout);
	fflush(stdout);
	out_mid_line = ((const char *)buf)[len - 1] != '\n';
	pthread_mutex_unlock(&out_lock);
}

void die(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("vmm: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}
