/* main.c - portmux-ctl: the operator commands of portmuxd -i, sent over the control socket */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmdline.h>
#include <cmdline_socket.h>

#include "pmx_ctl_client.h"

#include "cli.h" /* last: it undoes cmdline's dprintf macro */

#define DEFAULT_SOCKET "/run/portmux/portmux.sock"
#define REPLY_TIMEOUT_MS 10000
#define MAX_REPLY (16 * 1024 * 1024)
#define WATCH_COMMAND "show port stats all"
#define WATCH_MAX_COUNT 100000000ul

struct conn {
	const char *path;
	struct pmx_ctl_client *ctl; /* NULL until the first command, and after a failure */
};

/* the --help text (then the commands, pmx_cli_help()); the man page portmux-ctl(8) is made
 * from both (help2man, tools/meson.build) */
static void usage(FILE *f)
{
	fprintf(f,
		"Usage: portmux-ctl [OPTION]... [COMMAND...]\n"
		"  or:  portmux-ctl [OPTION]... watch [SECONDS [COMMAND...]]\n"
		"Operate a running portmuxd through its control socket: counters, clients, rules,\n"
		"the kernel policy. With a COMMAND it runs that one command and exits; without,\n"
		"it offers a prompt (TAB completes, ? lists choices, quit leaves).\n"
		"Quote or avoid shell wildcards: \"*\" or \"any\" for every address.\n"
		"watch runs COMMAND (default: %s) every SECONDS (default 1,\n"
		"0.1..3600) over one connection, so the rates it shows are over that interval;\n"
		"in a terminal it redraws in place, until interrupted or --count runs are done.\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH  control socket (default $PORTMUX_SOCKET, else %s)\n"
		"  -j, --json         print each reply as one JSON line (for scripts)\n"
		"  -n, --count N      watch: stop after N runs (1..%lu)\n"
		"  -h, --help         print this help and the commands, and exit\n"
		"  -V, --version      print the version and exit\n"
		"\n"
		"Exit status:\n"
		"  0  the command succeeded\n"
		"  1  portmuxd refused it (the reason on stderr)\n"
		"  2  bad command line or not a command\n"
		"  3  no answer (portmuxd not running, or the socket not reachable)\n"
		"\n",
		WATCH_COMMAND, DEFAULT_SOCKET, WATCH_MAX_COUNT);
	fflush(f); /* the commands follow, written to the file descriptor */
}

/* The transport of the command table: one request, its reply (NULL when none came). */
static json_t *exec_socket(void *arg, json_t *req)
{
	static const struct pmx_ctl_client_opts opts = {.timeout_ms = REPLY_TIMEOUT_MS,
							.max_line = MAX_REPLY};
	struct conn *c = arg;
	json_t *reply;
	int ret;

	if (c->ctl == NULL && (ret = pmx_ctl_client_open(c->path, &opts, &c->ctl)) != 0) {
		fprintf(stderr, "portmux-ctl: %s: %s\n", c->path, strerror(-ret));
		return NULL;
	}
	ret = pmx_ctl_client_exchange(c->ctl, req, &reply);
	if (ret == 0)
		return reply;
	if (ret == -EPROTO)
		fprintf(stderr, "portmux-ctl: %s: invalid reply\n", c->path);
	else if (ret != -EINVAL && ret != -ENOMEM)
		fprintf(stderr, "portmux-ctl: %s: connection lost\n", c->path);
	if (ret != -EINVAL && ret != -ENOMEM) { /* out of step: the next command reconnects */
		pmx_ctl_client_close(c->ctl);
		c->ctl = NULL;
	}
	return NULL;
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

/* A number in lo..hi, the whole of s. @return 0 or -EINVAL. */
static int parse_number(const char *s, double lo, double hi, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !(*v >= lo && *v <= hi))
		return -EINVAL;
	return 0;
}

/* watch [SECONDS [COMMAND...]]: run the command every SECONDS, count times (0: forever).
 * In a terminal each run redraws the screen; otherwise runs follow each other. */
static int watch(int argc, char **argv, unsigned long count, bool json)
{
	const bool tty = isatty(STDOUT_FILENO) && !json;
	enum pmx_cli_status status = PMX_CLI_OK;
	double seconds = 1;
	struct timespec next;
	char *line;

	if (argc > 0 && parse_number(argv[0], 0.1, 3600, &seconds) != 0) {
		fprintf(stderr, "portmux-ctl: watch: SECONDS must be a number 0.1..3600: \"%s\"\n",
			argv[0]);
		return PMX_CLI_USAGE;
	}
	line = argc > 1 ? join(argc - 1, argv + 1) : strdup(WATCH_COMMAND);
	if (line == NULL)
		return PMX_CLI_NO_ANSWER;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (unsigned long run = 1; count == 0 || run <= count; run++) {
		if (tty) /* home, clear: the table stays in place */
			printf("\033[H\033[2J");
		if (!json)
			printf("Every %.1fs: %s  (run %lu)\n", seconds, line, run);
		fflush(stdout);
		status = pmx_cli_run_line(line);
		if (status != PMX_CLI_OK || (count != 0 && run == count))
			break;
		next.tv_sec += (time_t)seconds;
		next.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
		if (next.tv_nsec >= 1000000000) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	free(line);
	return (int)status;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
		{"count", required_argument, NULL, 'n'},
		{"version", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	struct conn c = {0};
	struct pmx_cli_ops ops = {.exec = exec_socket, .quit = quit_prompt, .arg = &c,
				  .out_fd = STDOUT_FILENO, .err_fd = STDERR_FILENO};
	enum pmx_cli_status status;
	unsigned long count = 0;
	double n;
	int opt;

	c.path = getenv("PORTMUX_SOCKET") ? getenv("PORTMUX_SOCKET") : DEFAULT_SOCKET;
	/* "+": options end at the first word of the command */
	while ((opt = getopt_long(argc, argv, "+s:jn:Vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': c.path = optarg; break;
		case 'j': ops.json = true; break;
		case 'n':
			if (parse_number(optarg, 1, (double)WATCH_MAX_COUNT, &n) != 0 ||
			    n != (double)(unsigned long)n) {
				fprintf(stderr, "portmux-ctl: --count must be an integer 1..%lu: \"%s\"\n",
					WATCH_MAX_COUNT, optarg);
				return PMX_CLI_USAGE;
			}
			count = (unsigned long)n;
			break;
		case 'V': printf("portmux-ctl %s\n", PMX_VERSION); return 0;
		case 'h':
			usage(stdout);
			pmx_cli_help(STDOUT_FILENO);
			return 0;
		default: fprintf(stderr, "Try 'portmux-ctl --help'.\n"); return PMX_CLI_USAGE;
		}
	}
	pmx_cli_bind(&ops);
	if (optind < argc && strcmp(argv[optind], "watch") == 0) {
		status = watch(argc - optind - 1, argv + optind + 1, count, ops.json);
	} else if (optind < argc) {
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
	pmx_ctl_client_close(c.ctl);
	return (int)status;
}
