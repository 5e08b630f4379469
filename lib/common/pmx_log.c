/* pmx_log.c - registration of portmux's rte_log types; log lines to the journal, once each */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pmx_log.h"

int pmx_logtype_main;
int pmx_logtype_ctl;
int pmx_logtype_dp;

void pmx_log_init(void)
{
	pmx_logtype_main = rte_log_register_type_and_pick_level("portmux.main", RTE_LOG_INFO);
	pmx_logtype_ctl = rte_log_register_type_and_pick_level("portmux.ctl", RTE_LOG_INFO);
	pmx_logtype_dp = rte_log_register_type_and_pick_level("portmux.dp", RTE_LOG_NOTICE);
}

bool pmx_log_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (js == NULL || sscanf(js, "%llu:%llu%c", &dev, &ino, &end) != 2)
		return false;
	return fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

/* The stream's state: whether the next byte written starts a line. */
struct journal_cookie {
	bool line_start;
};

/* Each line to stderr once, opened by "<N>" (sd-daemon(3)): N is the syslog priority of the
 * message being logged (rte_log levels are syslog's plus one). rte_vlog() writes a message and
 * flushes, so buf holds one message, or a part of one longer than the stream's buffer. */
static ssize_t journal_write(void *c, const char *buf, size_t size)
{
	struct journal_cookie *jc = c;
	int prio = (int)rte_log_cur_msg_loglevel() - 1;
	size_t i = 0;

	if (prio < 0 || prio > 7)
		prio = 6; /* not from rte_log (a direct fprintf to the stream): info */
	while (i < size) {
		const char *nl = memchr(buf + i, '\n', size - i);
		size_t len = nl != NULL ? (size_t)(nl - (buf + i)) + 1 : size - i;

		if (jc->line_start)
			fprintf(stderr, "<%d>", prio);
		fwrite(buf + i, 1, len, stderr);
		jc->line_start = nl != NULL;
		i += len;
	}
	fflush(stderr);
	return (ssize_t)size;
}

int pmx_log_open_journal(void)
{
	static struct journal_cookie cookie = {.line_start = true};
	static const cookie_io_functions_t fns = {.write = journal_write};
	FILE *f;

	if (!pmx_log_stderr_is_journal())
		return 0;
	f = fopencookie(&cookie, "w", fns);
	if (f == NULL)
		return -errno;
	/* rte_log prefers this stream to EAL's default, which writes to stderr and syslog */
	if (rte_openlog_stream(f) != 0) {
		fclose(f);
		return -EINVAL;
	}
	return 1;
}
