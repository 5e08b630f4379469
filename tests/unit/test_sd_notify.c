/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_sd_notify.c - systemd's protocols without systemd (lib/common/pmx_sd_notify.c and the
 * journal stream of pmx_log.c): what pmx_sd_notify() refuses (no $NOTIFY_SOCKET, empty state,
 * relative and over-long names, nobody listening), then the datagrams a socket bound by the
 * test receives at a path and at an abstract '@' name, one message per call, several lines in
 * one; the watchdog's environment (unset, malformed, another process's, ours); the journal
 * stream: not switched when $JOURNAL_STREAM names another file, else each line once on stderr
 * with its syslog priority as "<N>".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "cunit_run.h"
#include "pmx_log.h"
#include "pmx_sd_notify.h"

#define DIM(a) (sizeof(a) / sizeof((a)[0]))

/* A datagram socket bound at name ("/path" or "@abstract"), as systemd binds its own. */
static int bind_notify(const char *name)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	CU_ASSERT_FATAL(fd >= 0);
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	else
		unlink(name);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&sa,
			     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) == 0);
	return fd;
}

/* The next datagram on fd (non-blocking: it must be there already), or "" when none. */
static const char *recv_one(int fd)
{
	static char buf[2048];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_notify_refuses(void)
{
	static const struct {
		const char *socket, *state;
		int expect;
	} cases[] = {
		{NULL, "READY=1", 0}, /* not under systemd: nothing to do */
		{"", "READY=1", 0},
		{"/run/x.sock", "", -EINVAL}, /* nothing to say */
		{"/run/x.sock", NULL, -EINVAL},
		{"relative.sock", "READY=1", -EINVAL},
		{"@", "READY=1", -EINVAL}, /* abstract without a name */
		{"/nonexistent/portmux-test/notify.sock", "READY=1", -ENOENT},
	};
	char longname[200];

	for (size_t i = 0; i < DIM(cases); i++) {
		if (cases[i].socket == NULL)
			unsetenv("NOTIFY_SOCKET");
		else
			setenv("NOTIFY_SOCKET", cases[i].socket, 1);
		CU_ASSERT_EQUAL(pmx_sd_notify(cases[i].state), cases[i].expect);
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longname, 1);
	CU_ASSERT_EQUAL(pmx_sd_notify("READY=1"), -EINVAL);
	unsetenv("NOTIFY_SOCKET");
}

static void test_notify_path_and_abstract(void)
{
	char path[64], abstract[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/pmx-test-notify.%d", (int)getpid());
	snprintf(abstract, sizeof(abstract), "@pmx-test-notify.%d", (int)getpid());
	const char *names[] = {path, abstract};

	for (size_t i = 0; i < DIM(names); i++) {
		fd = bind_notify(names[i]);
		setenv("NOTIFY_SOCKET", names[i], 1);
		CU_ASSERT_EQUAL(pmx_sd_notify("READY=1"), 1);
		CU_ASSERT_EQUAL(pmx_sd_notifyf("STATUS=ready: %u port(s)", 2u), 1);
		CU_ASSERT_EQUAL(pmx_sd_notify("STOPPING=1\nSTATUS=stopping"), 1);
		CU_ASSERT_STRING_EQUAL(recv_one(fd), "READY=1");
		CU_ASSERT_STRING_EQUAL(recv_one(fd), "STATUS=ready: 2 port(s)");
		CU_ASSERT_STRING_EQUAL(recv_one(fd), "STOPPING=1\nSTATUS=stopping");
		CU_ASSERT_STRING_EQUAL(recv_one(fd), ""); /* one datagram per call, no more */
		close(fd);
		if (names[i][0] == '/') {
			unlink(names[i]);
			/* the socket file gone: the sender says so */
			CU_ASSERT_EQUAL(pmx_sd_notify("READY=1"), -ENOENT);
		}
	}
	unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog_env(void)
{
	char own[32], other[32];
	static const char *const bad_usec[] = {"", "0", "-5", "10s", "abc", "99999999999999999999"};
	uint64_t usec = 7;

	snprintf(own, sizeof(own), "%d", (int)getpid());
	snprintf(other, sizeof(other), "%d", (int)getpid() + 1);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	CU_ASSERT_EQUAL(pmx_sd_watchdog_usec(&usec), -ENODATA);
	for (size_t i = 0; i < DIM(bad_usec); i++) {
		setenv("WATCHDOG_USEC", bad_usec[i], 1);
		CU_ASSERT_EQUAL(pmx_sd_watchdog_usec(&usec), -EINVAL);
	}
	setenv("WATCHDOG_USEC", "30000000", 1);
	setenv("WATCHDOG_PID", "x1", 1);
	CU_ASSERT_EQUAL(pmx_sd_watchdog_usec(&usec), -EINVAL);
	setenv("WATCHDOG_PID", other, 1); /* the watchdog is another process's */
	CU_ASSERT_EQUAL(pmx_sd_watchdog_usec(&usec), -ENODATA);
	CU_ASSERT_EQUAL(usec, 7);
	setenv("WATCHDOG_PID", own, 1);
	CU_ASSERT_EQUAL(pmx_sd_watchdog_usec(&usec), 0);
	CU_ASSERT_EQUAL(usec, 30000000);
	unsetenv("WATCHDOG_PID"); /* no PID: ours */
	usec = 0;
	CU_ASSERT_EQUAL(pmx_sd_watchdog_usec(&usec), 0);
	CU_ASSERT_EQUAL(usec, 30000000);
	unsetenv("WATCHDOG_USEC");
}

/* stderr on a temporary file, as systemd puts it on the journal's stream; returns the old fd */
static int stderr_to(FILE *f)
{
	int saved = dup(STDERR_FILENO);

	fflush(stderr);
	CU_ASSERT_FATAL(saved >= 0 && dup2(fileno(f), STDERR_FILENO) == STDERR_FILENO);
	return saved;
}

static void test_journal_stream(void)
{
	FILE *f = tmpfile();
	struct stat st;
	char js[64], out[512] = "";
	int saved;
	size_t n;

	CU_ASSERT_FATAL(f != NULL);
	saved = stderr_to(f);
	/* not the journal: $JOURNAL_STREAM unset, malformed, or naming another file */
	unsetenv("JOURNAL_STREAM");
	CU_ASSERT_FALSE(pmx_log_stderr_is_journal());
	CU_ASSERT_EQUAL(pmx_log_open_journal(), 0);
	setenv("JOURNAL_STREAM", "8:x", 1);
	CU_ASSERT_EQUAL(pmx_log_open_journal(), 0);
	CU_ASSERT_FATAL(fstat(STDERR_FILENO, &st) == 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", js, 1);
	CU_ASSERT_EQUAL(pmx_log_open_journal(), 0);

	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	CU_ASSERT_TRUE(pmx_log_stderr_is_journal());
	CU_ASSERT_EQUAL(pmx_log_open_journal(), 1);
	pmx_log_init();
	PMX_LOG(ERR, main, "an error");
	PMX_LOG(WARNING, main, "a warning\nover two lines");
	PMX_LOG(INFO, main, "info");
	PMX_LOG(DEBUG, main, "not logged: below portmux.main's level");
	rte_openlog_stream(NULL);
	unsetenv("JOURNAL_STREAM");

	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	CU_ASSERT_STRING_EQUAL(out, "<3>portmux.main: an error\n"
				    "<4>portmux.main: a warning\n"
				    "<4>over two lines\n"
				    "<6>portmux.main: info\n");
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"notify refuses", test_notify_refuses},
		{"notify at a path and an abstract name", test_notify_path_and_abstract},
		{"watchdog environment", test_watchdog_env},
		{"journal stream", test_journal_stream},
	};

	return cunit_run("sd_notify", NULL, NULL, tests, DIM(tests));
}
