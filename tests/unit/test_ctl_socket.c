/* test_ctl_socket.c - unit tests of the control socket, permissions and the operator CLI table */
/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Covers, negative cases first:
 *  - the socket file gets control.mode and control.group; with mode 0660 an unprivileged
 *    peer outside the group cannot even connect (EACCES) while a group member can;
 *  - a socket file nobody accepts on (a killed daemon's) is removed before bind, a live
 *    daemon's is refused (EADDRINUSE, for the control and the memif socket types), a file
 *    that is not a socket is left alone (ENOTSOCK);
 *  - robustness over a real connection: a request over 64 KiB (E2BIG), invalid JSON, wrong
 *    types, unknown commands each get an error reply and the connection keeps working;
 *    a peer that pipelines 200 requests gets at most PMX_CTL_BUDGET answers per poll round
 *    while another peer is answered in the same round; a half-closed peer gets every reply;
 *  - a connection that closes detaches its client: rules, slot and reserved ports freed;
 *  - permissions from SO_PEERCRED, from forked children that drop to uid 65534: outside
 *    control.group every operator command is EPERM, ports < 1024 are EACCES except the
 *    clients.low_ports list, claim_ip is EPERM, others' rules are EPERM and invisible; as a
 *    member of control.group the operator commands work;
 *  - the CLI command table (the one of portmuxd -i and portmux-ctl): every command through
 *    a transport into pmx_ctl_execute(), testpmd-style output, --json output, usage errors,
 *    error replies, a failed transport, quit;
 *  - every example config in conf/ loads.
 * Usage: test_ctl_socket [CONF_DIR]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <CUnit/Basic.h>

#include "cli.h"
#include "ctl_fixture.h"
#include "cunit_run.h"
#include "sock_path.h"

#define NOBODY 65534
#define NOGROUP 65534
#define OTHER_GID 65533

static const char *conf_dir = "conf";

static int suite_init(void)
{
	return fx_setup();
}

static int suite_cleanup(void)
{
	return fx_teardown();
}

static int connect_ctl(void)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", F.sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		int ret = -errno;

		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd;
}

/* Send everything while serving the daemon side (the socket buffer may be smaller). */
static void send_serving(int fd, const char *data, size_t len)
{
	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (unsigned tries = 0; len > 0 && tries < 10000; tries++) {
		ssize_t w = send(fd, data, len, MSG_NOSIGNAL);

		if (w > 0) {
			data += w;
			len -= (size_t)w;
		}
		pmx_ctl_poll(&F.ctl, 0);
	}
	CU_ASSERT_EQUAL(len, 0);
}

/* Read complete reply lines from fd (non-blocking), appending to buf; returns lines. */
static unsigned read_replies(int fd, char *buf, size_t cap, size_t *len)
{
	unsigned lines = 0;
	ssize_t r;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (*len + 1 < cap && (r = recv(fd, buf + *len, cap - 1 - *len, 0)) > 0)
		*len += (size_t)r;
	buf[*len] = '\0';
	for (size_t i = 0; i < *len; i++)
		lines += buf[i] == '\n';
	return lines;
}

/* Serve until fd has `want` reply lines (bounded); returns the lines seen. */
static unsigned serve_until(int fd, unsigned want, char *buf, size_t cap, size_t *len)
{
	unsigned lines = 0;

	for (unsigned i = 0; i < 2000 && lines < want; i++) {
		pmx_ctl_poll(&F.ctl, 1);
		lines = read_replies(fd, buf, cap, len);
	}
	return lines;
}

/* The code of reply line n of buf ("ok" or the error code). */
static const char *nth_code(const char *buf, unsigned n, char *out, size_t len)
{
	const char *line = buf;
	json_t *reply;

	for (unsigned i = 0; i < n && line != NULL; i++)
		line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL;
	reply = line ? json_loadb(line, strcspn(line, "\n"), 0, NULL) : NULL;
	if (json_is_true(json_object_get(reply, "ok")))
		snprintf(out, len, "ok");
	else
		snprintf(out, len, "%s",
			 json_string_value(json_object_get(json_object_get(reply, "error"), "code"))
				 ?: "none");
	json_decref(reply);
	return out;
}

static void test_socket_file(void)
{
	struct stat st;

	CU_ASSERT_EQUAL_FATAL(stat(F.sock, &st), 0);
	CU_ASSERT_TRUE(S_ISSOCK(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0666);
	CU_ASSERT_EQUAL(st.st_gid, NOGROUP);
}

/* A socket file at a path: the one of a daemon gone (nobody accepts) is removed, a live
 * one (ours) and anything that is not a socket are left alone, and a second control
 * socket on a live daemon's path is refused with a message that says so. */
static void test_stale_and_live_socket(void)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char path[sizeof(addr.sun_path)], err[256];
	struct pmx_ctl other;
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/stale.sock", F.dir);
	CU_ASSERT_EQUAL(pmx_sock_path_claim(path, SOCK_STREAM), 0); /* nothing there */
	for (int type = SOCK_STREAM; type <= SOCK_SEQPACKET; type += SOCK_SEQPACKET - SOCK_STREAM) {
		/* a killed daemon's: bound and listening once, closed without unlink */
		snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
		fd = socket(AF_UNIX, type, 0);
		CU_ASSERT_FATAL(fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
				listen(fd, 1) == 0);
		CU_ASSERT_EQUAL(pmx_sock_path_claim(path, type), -EADDRINUSE); /* live */
		close(fd);
		CU_ASSERT_EQUAL(pmx_sock_path_claim(path, type), 1);
		CU_ASSERT_NOT_EQUAL(lstat(path, &st), 0);
	}
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT_EQUAL(pmx_sock_path_claim(path, SOCK_STREAM), -ENOTSOCK);
	CU_ASSERT_EQUAL(lstat(path, &st), 0); /* not ours to remove */
	unlink(path);

	/* the fixture's daemon serves F.sock: a second one is refused, the first keeps it */
	CU_ASSERT_EQUAL(pmx_ctl_init(&other, &F.sw, &F.cfg, err, sizeof(err)), -EADDRINUSE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "another portmuxd is serving it"));
	fd = connect_ctl();
	CU_ASSERT(fd >= 0);
	if (fd >= 0)
		close(fd);
}

static void test_bad_input_keeps_connection(void)
{
	static const char bad_lines[] = "{\"cmd\": \"stats\"\n{\"cmd\": \"listen\", \"proto\": 6}\n"
					"{\"cmd\": \"shutdown\"}\n{\"cmd\": [\"stats\"]}\n\n"
					"{\"cmd\": \"rules\"}\r\n";
	static char buf[1 << 16];
	char code[32], *big;
	size_t len = 0, big_len = PMX_CTL_MAX_REQUEST + 5000;
	int fd = connect_ctl();

	CU_ASSERT_FATAL(fd >= 0);
	big = malloc(big_len + 64);
	CU_ASSERT_FATAL(big != NULL);
	memset(big, 'x', big_len);
	snprintf(big + big_len, 64, "\n{\"cmd\":\"stats\",\"id\":2}\n");
	send_serving(fd, big, strlen(big));
	free(big);
	CU_ASSERT_EQUAL(serve_until(fd, 2, buf, sizeof(buf), &len), 2);
	CU_ASSERT_STRING_EQUAL(nth_code(buf, 0, code, sizeof(code)), "E2BIG");
	CU_ASSERT_STRING_EQUAL(nth_code(buf, 1, code, sizeof(code)), "ok");
	/* invalid JSON, wrong types, unknown command, then a good request: all answered */
	send_serving(fd, bad_lines, strlen(bad_lines));
	CU_ASSERT_EQUAL(serve_until(fd, 7, buf, sizeof(buf), &len), 7);
	CU_ASSERT_STRING_EQUAL(nth_code(buf, 2, code, sizeof(code)), "EINVAL");
	CU_ASSERT_STRING_EQUAL(nth_code(buf, 3, code, sizeof(code)), "ENOTCONN");
	CU_ASSERT_STRING_EQUAL(nth_code(buf, 4, code, sizeof(code)), "ENOSYS");
	CU_ASSERT_STRING_EQUAL(nth_code(buf, 5, code, sizeof(code)), "EINVAL");
	CU_ASSERT_STRING_EQUAL(nth_code(buf, 6, code, sizeof(code)), "ok");
	close(fd);
	pmx_ctl_poll(&F.ctl, 0);
}

static void test_flood_is_bounded(void)
{
	static char bufa[1 << 20], bufb[4096], reqs[200 * 40];
	size_t la = 0, lb = 0, n = 0;
	int a = connect_ctl(), b = connect_ctl();
	unsigned lines;

	CU_ASSERT_FATAL(a >= 0 && b >= 0);
	pmx_ctl_poll(&F.ctl, 0); /* accept both */
	pmx_ctl_poll(&F.ctl, 0);
	for (unsigned i = 0; i < 200; i++)
		n += (size_t)snprintf(reqs + n, sizeof(reqs) - n, "{\"cmd\":\"rules\",\"id\":%u}\n",
				      i);
	CU_ASSERT_EQUAL(send(a, reqs, n, 0), (ssize_t)n);
	CU_ASSERT_EQUAL(send(b, "{\"cmd\":\"stats\",\"id\":\"b\"}\n", 26, 0), 26);
	/* one round: the flooder gets its budget, the other peer its answer */
	pmx_ctl_poll(&F.ctl, 0);
	lines = read_replies(a, bufa, sizeof(bufa), &la);
	CU_ASSERT(lines >= 1 && lines <= PMX_CTL_BUDGET);
	CU_ASSERT_EQUAL(read_replies(b, bufb, sizeof(bufb), &lb), 1);
	/* the rest follows in later rounds, in order */
	CU_ASSERT_EQUAL(serve_until(a, 200, bufa, sizeof(bufa), &la), 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(bufa, "\"id\":0,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(bufa, "\"id\":199,"));
	CU_ASSERT(strstr(bufa, "\"id\":17,") < strstr(bufa, "\"id\":18,"));
	close(a);
	close(b);
	pmx_ctl_poll(&F.ctl, 0);
}

static void test_half_close_and_detach(void)
{
	static char buf[8192];
	char code[32];
	size_t len = 0;
	int fd = connect_ctl();
	static const char script[] = "{\"cmd\":\"hello\",\"name\":\"sock\"}\n"
				     "{\"cmd\":\"listen\",\"proto\":\"udp\",\"port\":43000}\n"
				     "{\"cmd\":\"rules\"}\n";

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(send(fd, script, sizeof(script) - 1, 0), (ssize_t)sizeof(script) - 1);
	shutdown(fd, SHUT_WR);
	CU_ASSERT_EQUAL(serve_until(fd, 3, buf, sizeof(buf), &len), 3);
	CU_ASSERT_STRING_EQUAL(nth_code(buf, 1, code, sizeof(code)), "ok");
	/* the daemon closes a half-closed session once it has every reply: client detached */
	for (unsigned i = 0; i < 1000 && pmx_flow_table_count(F.sw.ft) > 0; i++)
		pmx_ctl_poll(&F.ctl, 1);
	CU_ASSERT_EQUAL(pmx_flow_table_count(F.sw.ft), 0);
	CU_ASSERT_EQUAL(F.sw.clients[0].state, PMX_SLOT_FREE);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_DGRAM, "0.0.0.0", 43000), 0);
	CU_ASSERT_EQUAL(recv(fd, buf, sizeof(buf), 0), 0); /* end of stream */
	close(fd);
}

/* ---- permissions, from children with other credentials ---- */

struct step {
	const char *request;
	const char *code; /* expected "ok" or error code */
	int n_rules;      /* expected length of result.rules, -1 = not checked */
};

/* In the child: drop to uid NOBODY with gid, run the steps. Exit status = failed step + 1. */
static int child_run(gid_t gid, const struct step *steps, unsigned n, int want_connect_errno)
{
	char line[65536];
	FILE *f;
	int fd;

	if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(NOBODY) != 0)
		return 100;
	fd = connect_ctl();
	if (want_connect_errno != 0)
		return fd == -want_connect_errno ? 0 : 101;
	if (fd < 0)
		return 102;
	f = fdopen(fd, "r+");
	for (unsigned i = 0; i < n; i++) {
		json_t *reply;
		const char *code;

		fprintf(f, "%s\n", steps[i].request);
		fflush(f);
		if (fgets(line, sizeof(line), f) == NULL)
			return (int)i + 1;
		reply = json_loads(line, 0, NULL);
		code = json_is_true(json_object_get(reply, "ok"))
			       ? "ok"
			       : json_string_value(
					 json_object_get(json_object_get(reply, "error"), "code"));
		if (code == NULL || strcmp(code, steps[i].code) != 0 ||
		    (steps[i].n_rules >= 0 &&
		     (int)json_array_size(json_object_get(json_object_get(reply, "result"),
							  "rules")) != steps[i].n_rules)) {
			fprintf(stderr, "child step %u: %s -> %s", i, steps[i].request, line);
			return (int)i + 1;
		}
		json_decref(reply);
	}
	fclose(f);
	return 0;
}

/* Fork a child running the steps as (NOBODY, gid) and serve it; its exit status. */
static int as_nobody(gid_t gid, const struct step *steps, unsigned n, int want_connect_errno)
{
	pid_t pid = fork();
	int status = -1;

	if (pid == 0)
		_exit(child_run(gid, steps, n, want_connect_errno));
	for (unsigned i = 0; i < 5000; i++) {
		pmx_ctl_poll(&F.ctl, 2);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	if (!WIFEXITED(status)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -1;
	}
	for (unsigned i = 0; i < 50; i++) /* let the daemon see the close */
		pmx_ctl_poll(&F.ctl, 1);
	return WEXITSTATUS(status);
}

static void test_permissions(void)
{
	struct pmx_ctl_session *admin = fx_session(true, 0);
	char release_other[96];
	json_t *res;
	int ret;

	/* a rule of someone else, for the unprivileged peer to try */
	CU_ASSERT(fx_hello(admin, "root-client") >= 0);
	CU_ASSERT_STRING_EQUAL(fx_call(admin,
				       "{\"cmd\": \"listen\", \"proto\": \"tcp\", \"port\": "
				       "44000}",
				       &res),
			       "ok");
	snprintf(release_other, sizeof(release_other), "{\"cmd\":\"release\",\"rule_id\":%lld}",
		 (long long)json_integer_value(json_object_get(res, "rule_id")));
	json_decref(res);

	const struct step outsider[] = {
		{"{\"cmd\":\"clients\"}", "EPERM", -1},
		{"{\"cmd\":\"kick\",\"client_id\":0}", "EPERM", -1},
		{"{\"cmd\":\"set_kernel_policy\",\"policy\":\"firewall\"}", "EPERM", -1},
		{"{\"cmd\":\"rule_add\",\"kind\":\"ip\",\"local_ip\":\"198.18.0.9\",\"owner\":"
		 "\"drop\"}",
		 "EPERM", -1},
		{"{\"cmd\":\"rule_del\",\"rule_id\":0}", "EPERM", -1},
		{"{\"cmd\":\"clear_stats\"}", "EPERM", -1},
		{"{\"cmd\":\"rules\"}", "ok", 0},
		{"{\"cmd\":\"stats\"}", "ok", -1},
		{"{\"cmd\":\"used_ports\"}", "ok", -1},
		{"{\"cmd\":\"hello\",\"name\":\"unprivileged\"}", "ok", -1},
		{"{\"cmd\":\"listen\",\"proto\":\"tcp\",\"port\":80}", "EACCES", -1},
		{"{\"cmd\":\"listen\",\"proto\":\"udp\",\"port\":1023}", "EACCES", -1},
		{"{\"cmd\":\"listen\",\"proto\":\"udp\",\"port\":53}", "ok", -1},
		{"{\"cmd\":\"listen\",\"proto\":\"udp\",\"port\":44001}", "ok", -1},
		{"{\"cmd\":\"claim_ip\",\"ip\":\"198.18.0.77\"}", "EPERM", -1},
		{release_other, "EPERM", -1},
		{"{\"cmd\":\"listen\",\"proto\":\"tcp\",\"port\":44000}", "EADDRINUSE", -1},
		{"{\"cmd\":\"rules\"}", "ok", 2},
	};
	const struct step member[] = {
		{"{\"cmd\":\"clients\"}", "ok", -1},
		{"{\"cmd\":\"set_kernel_policy\",\"policy\":\"pass\"}", "ok", -1},
		{"{\"cmd\":\"rules\"}", "ok", 1},
		{"{\"cmd\":\"hello\",\"name\":\"member\"}", "ok", -1},
		{"{\"cmd\":\"listen\",\"proto\":\"tcp\",\"port\":443}", "ok", -1},
		{"{\"cmd\":\"claim_ip\",\"ip\":\"198.18.0.78\"}", "ok", -1},
	};

	ret = as_nobody(OTHER_GID, outsider, RTE_DIM(outsider), 0);
	CU_ASSERT_EQUAL(ret, 0);
	if (ret != 0)
		fprintf(stderr, "outsider failed at step %d\n", ret - 1);
	ret = as_nobody(NOGROUP, member, RTE_DIM(member), 0);
	CU_ASSERT_EQUAL(ret, 0);
	if (ret != 0)
		fprintf(stderr, "group member failed at step %d\n", ret - 1);
	/* both children are gone: only the root client's rule is left */
	CU_ASSERT_EQUAL(pmx_flow_table_count(F.sw.ft), 1);

	/* the socket's mode keeps outsiders from connecting at all */
	CU_ASSERT_EQUAL_FATAL(chmod(F.sock, 0660), 0);
	CU_ASSERT_EQUAL(as_nobody(OTHER_GID, NULL, 0, EACCES), 0);
	CU_ASSERT_EQUAL(as_nobody(NOGROUP, member, 1, 0), 0);
	chmod(F.sock, F.cfg.socket_mode);
	fx_session_free(admin);
}

/* ---- the CLI command table ---- */

static struct pmx_ctl_session *cli_session;
static bool cli_broken, cli_quit;

static json_t *cli_exec(void *arg, json_t *req)
{
	(void)arg;
	return cli_broken ? NULL : pmx_ctl_execute(&F.ctl, cli_session, req);
}

static void cli_on_quit(void *arg)
{
	(void)arg;
	cli_quit = true;
}

/* Run a line; its output (stdout and stderr of the CLI) in out. */
static enum pmx_cli_status cli(int fd, const char *line, char *out, size_t len)
{
	enum pmx_cli_status st;
	ssize_t r;

	CU_ASSERT_EQUAL(ftruncate(fd, 0), 0);
	lseek(fd, 0, SEEK_SET);
	st = pmx_cli_run_line(line);
	lseek(fd, 0, SEEK_SET);
	r = read(fd, out, len - 1);
	out[r > 0 ? r : 0] = '\0';
	return st;
}

static void test_cli_table(void)
{
	static char out[65536];
	FILE *tmp = tmpfile();
	int fd = fileno(tmp);
	struct pmx_cli_ops ops = {
		.exec = cli_exec, .quit = cli_on_quit, .out_fd = fd, .err_fd = fd};
	json_t *reply;

	cli_session = fx_session(true, 0);
	pmx_cli_bind(&ops);
	/* negative first: not commands, bad arguments, error replies, no transport */
	CU_ASSERT_EQUAL(cli(fd, "bogus words", out, sizeof(out)), PMX_CLI_USAGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "show port stats all"));
	CU_ASSERT_EQUAL(cli(fd, "show port info x", out, sizeof(out)), PMX_CLI_USAGE);
	CU_ASSERT_EQUAL(cli(fd, "rule add listen tcp any 99999 kernel", out, sizeof(out)),
			PMX_CLI_USAGE);
	CU_ASSERT_EQUAL(cli(fd, "set kernel policy open", out, sizeof(out)), PMX_CLI_USAGE);
	CU_ASSERT_EQUAL(cli(fd, "request {not json", out, sizeof(out)), PMX_CLI_USAGE);
	CU_ASSERT_EQUAL(cli(fd, "rule del 99999", out, sizeof(out)), PMX_CLI_ERROR_REPLY);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "error: ENOENT"));
	CU_ASSERT_EQUAL(cli(fd, "show port info 7", out, sizeof(out)), PMX_CLI_ERROR_REPLY);
	CU_ASSERT_EQUAL(cli(fd, "kick 9", out, sizeof(out)), PMX_CLI_ERROR_REPLY);
	cli_broken = true;
	CU_ASSERT_EQUAL(cli(fd, "show clients", out, sizeof(out)), PMX_CLI_NO_ANSWER);
	cli_broken = false;

	/* every command */
	CU_ASSERT_EQUAL(cli(fd, "show port stats all", out, sizeof(out)), PMX_CLI_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NIC statistics for port 0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NIC statistics for port 1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "RX-packets:"));
	CU_ASSERT_EQUAL(cli(fd, "show port info 1", out, sizeof(out)), PMX_CLI_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Infos for port 1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Flow offload: software"));
	CU_ASSERT_EQUAL(cli(fd, "show lcores", out, sizeof(out)), PMX_CLI_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "RX worker 0"));
	CU_ASSERT_EQUAL(cli(fd, "rule add listen tcp any 8080 kernel", out, sizeof(out)),
			PMX_CLI_OK);
	CU_ASSERT_EQUAL(cli(fd, "rule add connect udp 198.19.0.1 5353 198.19.0.2 53 drop port lan1",
			    out, sizeof(out)),
			PMX_CLI_OK);
	CU_ASSERT_EQUAL(cli(fd, "rule add ip 198.18.0.99 drop", out, sizeof(out)), PMX_CLI_OK);
	CU_ASSERT_EQUAL(cli(fd, "rule add listen tcp * 8080 drop", out, sizeof(out)),
			PMX_CLI_ERROR_REPLY);
	CU_ASSERT_EQUAL(cli(fd, "show rules", out, sizeof(out)), PMX_CLI_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "*:8080"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "198.19.0.2:53"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "3 rule(s)"));
	CU_ASSERT_EQUAL(cli(fd, "show used ports", out, sizeof(out)), PMX_CLI_OK);
	CU_ASSERT_EQUAL(cli(fd, "set kernel policy firewall", out, sizeof(out)), PMX_CLI_OK);
	CU_ASSERT_EQUAL(F.sw.kernel_policy, PMX_POLICY_FIREWALL);
	CU_ASSERT_EQUAL(cli(fd, "set kernel policy pass", out, sizeof(out)), PMX_CLI_OK);
	CU_ASSERT_EQUAL(cli(fd, "clear port stats all", out, sizeof(out)), PMX_CLI_OK);
	CU_ASSERT_EQUAL(
		cli(fd, "request {\"cmd\": \"hello\", \"name\": \"via-cli\"}", out, sizeof(out)),
		PMX_CLI_OK);
	CU_ASSERT_EQUAL(cli(fd, "show clients", out, sizeof(out)), PMX_CLI_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "via-cli"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "client(s)"));
	CU_ASSERT_EQUAL(cli(fd, "kick 0", out, sizeof(out)), PMX_CLI_OK);
	CU_ASSERT_EQUAL(cli(fd, "help", out, sizeof(out)), PMX_CLI_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "set kernel policy"));
	CU_ASSERT_EQUAL(cli(fd, "quit", out, sizeof(out)), PMX_CLI_OK);
	CU_ASSERT_TRUE(cli_quit);
	/* --json: each reply as one JSON line */
	ops.json = true;
	pmx_cli_bind(&ops);
	CU_ASSERT_EQUAL(cli(fd, "show rules", out, sizeof(out)), PMX_CLI_OK);
	reply = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
	CU_ASSERT_TRUE(json_is_true(json_object_get(reply, "ok")));
	CU_ASSERT_EQUAL(json_array_size(json_object_get(json_object_get(reply, "result"), "rules")),
			3);
	json_decref(reply);
	CU_ASSERT_EQUAL(cli(fd, "rule del 99999", out, sizeof(out)), PMX_CLI_ERROR_REPLY);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"ok\":false"));
	fx_call(cli_session, "{\"cmd\": \"rules\"}", &reply);
	for (size_t i = 0; i < json_array_size(json_object_get(reply, "rules")); i++) {
		json_t *r = json_array_get(json_object_get(reply, "rules"), i);

		pmx_flow_table_del(F.sw.ft,
				   (uint32_t)json_integer_value(json_object_get(r, "rule_id")));
	}
	json_decref(reply);
	fx_session_free(cli_session);
	fclose(tmp);
}

static void test_example_configs(void)
{
	struct pmx_config cfg;
	struct dirent *de;
	char path[512], err[512];
	unsigned n = 0;
	DIR *d = opendir(conf_dir);

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", conf_dir, de->d_name);
		CU_ASSERT_EQUAL(pmx_config_load(path, "portmuxd", &cfg, err, sizeof(err)), 0);
		if (err[0] != '\0' && cfg.n_ports == 0)
			fprintf(stderr, "%s\n", err);
		pmx_config_free(&cfg);
		n++;
	}
	closedir(d);
	CU_ASSERT(n >= 3); /* demo, firewalled appliance, two NIC ports */
}

/* show rules: a rule without a port (usnetd's whole-protocol and peer matches) prints its
 * address alone, never "address:0" */
static void test_rules_without_ports(void)
{
	json_t *res = json_pack("{s:[{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i}]}", "rules",
				"rule_id", 5, "kind", "proto", "port", "wan0", "proto", "icmp",
				"local_ip", "198.18.0.1", "remote_ip", "198.18.0.2", "owner",
				"kernel", "origin", "client", "hits", 0);
	int fd = memfd_create("rules", MFD_CLOEXEC);
	char out[1024] = "";

	CU_ASSERT_FATAL(res != NULL && fd >= 0);
	pmx_cli_print_rules(fd, res);
	CU_ASSERT(pread(fd, out, sizeof(out) - 1, 0) > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, " 198.18.0.1 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, " 198.18.0.2 "));
	CU_ASSERT_PTR_NULL(strstr(out, ":0"));
	close(fd);
	json_decref(res);
}

int main(int argc, char **argv)
{
	static const struct cunit_test tests[] = {
		{"socket file mode and group", test_socket_file},
		{"stale socket removed, live one refused", test_stale_and_live_socket},
		{"bad input keeps the connection", test_bad_input_keeps_connection},
		{"a flood is served within a budget", test_flood_is_bounded},
		{"half close, then detach", test_half_close_and_detach},
		{"permissions from SO_PEERCRED", test_permissions},
		{"CLI command table", test_cli_table},
		{"example configs", test_example_configs},
		{"show rules: a rule without ports", test_rules_without_ports},
	};

	if (argc > 1)
		conf_dir = argv[1];
	fx_eal_init("test_ctl_socket");
	return cunit_run("ctl_socket", suite_init, suite_cleanup, tests, RTE_DIM(tests));
}
