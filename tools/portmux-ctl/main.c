/* main.c - portmux-ctl: the operator commands of portmuxd -i, sent over the control socket */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmdline.h>
#include <cmdline_socket.h>

#include "cli.h" /* last: it undoes cmdline's dprintf macro */

#define DEFAULT_SOCKET "/run/portmux/portmux.sock"
#define REPLY_TIMEOUT_MS 10000
#define MAX_REPLY (16 * 1024 * 1024)

struct conn {
	const char *path;
	int fd;
	long next_id;
	char *buf;   /* bytes received past the last reply */
	size_t len, cap;
};

/* the --help text (then the commands, pmx_cli_help()); the man page portmux-ctl(8) is made
 * from both (help2man, tools/meson.build) */
static void usage(FILE *f)
{
	fprintf(f,
		"Usage: portmux-ctl [OPTION]... [COMMAND...]\n"
		"Operate a running portmuxd through its control socket: counters, clients, rules,\n"
		"the kernel policy. With a COMMAND it runs that one command and exits; without,\n"
		"it offers a prompt (TAB completes, ? lists choices, quit leaves).\n"
		"Quote or avoid shell wildcards: \"*\" or \"any\" for every address.\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH  control socket (default $PORTMUX_SOCKET, else %s)\n"
		"  -j, --json         print each reply as one JSON line (for scripts)\n"
		"  -h, --help         print this help and the commands, and exit\n"
		"  -V, --version      print the version and exit\n"
		"\n"
		"Exit status:\n"
		"  0  the command succeeded\n"
		"  1  portmuxd refused it (the reason on stderr)\n"
		"  2  bad command line or not a command\n"
		"  3  no answer (portmuxd not running, or the socket not reachable)\n"
		"\n",
		DEFAULT_SOCKET);
	fflush(f); /* the commands follow, written to the file descriptor */
}

static int conn_open(struct conn *c)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	if (strlen(c->path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", c->path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		int ret = -errno;

		close(c->fd);
		c->fd = -1;
		return ret;
	}
	return 0;
}

/* Write all of text; 0 or -errno. */
static int send_all(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t w = send(fd, text, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		text += w;
		len -= (size_t)w;
	}
	return 0;
}

/* One reply line (malloc'd, without the newline), or NULL. */
static char *read_line(struct conn *c)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		ssize_t r;

		if (nl != NULL) {
			size_t n = (size_t)(nl - c->buf);
			char *line = strndup(c->buf, n);

			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return line;
		}
		if (c->len + 65536 > c->cap) {
			char *nb;

			if (c->cap >= MAX_REPLY)
				return NULL;
			nb = realloc(c->buf, c->cap * 2 + 65536);
			if (nb == NULL)
				return NULL;
			c->buf = nb;
			c->cap = c->cap * 2 + 65536;
		}
		if (poll(&pfd, 1, REPLY_TIMEOUT_MS) <= 0)
			return NULL;
		r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (r <= 0)
			return NULL;
		c->len += (size_t)r;
	}
}

/* The transport of the command table: one request, one reply line. */
static json_t *exec_socket(void *arg, json_t *req)
{
	struct conn *c = arg;
	char *text, *line;
	json_t *reply;
	int ret;

	if (c->fd < 0 && (ret = conn_open(c)) != 0) {
		fprintf(stderr, "portmux-ctl: %s: %s\n", c->path, strerror(-ret));
		return NULL;
	}
	if (json_is_object(req) && json_object_get(req, "id") == NULL)
		json_object_set_new(req, "id", json_integer(c->next_id++));
	text = json_dumps(req, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text == NULL)
		return NULL;
	ret = send_all(c->fd, text, strlen(text));
	if (ret == 0)
		ret = send_all(c->fd, "\n", 1);
	free(text);
	line = ret == 0 ? read_line(c) : NULL;
	if (line == NULL) {
		fprintf(stderr, "portmux-ctl: %s: connection lost\n", c->path);
		close(c->fd);
		c->fd = -1;
		return NULL;
	}
	reply = json_loads(line, 0, NULL);
	free(line);
	return reply;
}

static void quit_prompt(void *arg)
{
	(void)arg;
}

/* The words of argv as one command line. */
static char *join(int argc, char **argv)
{
	size_t len = 1;
	char *line;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	line = calloc(1, len);
	if (line == NULL)
		return NULL;
	for (int i = 0; i < argc; i++) {
		strcat(line, argv[i]);
		if (i + 1 < argc)
			strcat(line, " ");
	}
	return line;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
		{"version", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	struct conn c = {.fd = -1, .next_id = 1};
	struct pmx_cli_ops ops = {.exec = exec_socket, .quit = quit_prompt, .arg = &c,
				  .out_fd = STDOUT_FILENO, .err_fd = STDERR_FILENO};
	enum pmx_cli_status status;
	int opt;

	c.path = getenv("PORTMUX_SOCKET") ? getenv("PORTMUX_SOCKET") : DEFAULT_SOCKET;
	/* "+": options end at the first word of the command */
	while ((opt = getopt_long(argc, argv, "+s:jVh", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': c.path = optarg; break;
		case 'j': ops.json = true; break;
		case 'V': printf("portmux-ctl %s\n", PMX_VERSION); return 0;
		case 'h':
			usage(stdout);
			pmx_cli_help(STDOUT_FILENO);
			return 0;
		default: fprintf(stderr, "Try 'portmux-ctl --help'.\n"); return PMX_CLI_USAGE;
		}
	}
	pmx_cli_bind(&ops);
	if (optind < argc) {
		char *line = join(argc - optind, argv + optind);

		if (line == NULL)
			return PMX_CLI_NO_ANSWER;
		status = pmx_cli_run_line(line);
		free(line);
	} else {
		struct cmdline *cl = cmdline_stdin_new(pmx_cli_ctx, "portmux-ctl> ");

		if (cl == NULL)
			return PMX_CLI_NO_ANSWER;
		cmdline_interact(cl);
		cmdline_stdin_exit(cl);
		status = PMX_CLI_OK;
	}
	if (c.fd >= 0)
		close(c.fd);
	free(c.buf);
	return (int)status;
}
