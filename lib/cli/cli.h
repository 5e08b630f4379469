/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * cli.h - the operator's command set, in dpdk-testpmd's style, as ONE librte_cmdline table
 * shared by the daemon's prompt (portmuxd -i) and portmux-ctl.
 *
 * Each command turns its words into a control API request, hands it to a transport (the
 * daemon: pmx_ctl_execute() in an admin session; portmux-ctl: the control socket) and prints
 * the reply as testpmd would (banners, aligned counters), or raw with json set.
 *
 * Thread-safety: one CLI per process (the bound ops are process-wide); call from one thread.
 */
#ifndef PMX_CLI_H
#define PMX_CLI_H

#include <stdbool.h>

#include <cmdline.h>
#include <cmdline_parse.h>
#include <jansson.h>

/* cmdline_cirbuf.h (via cmdline.h) defines a debug macro named dprintf: we want libc's */
#undef dprintf

/** Where the commands go. */
struct pmx_cli_ops {
	/** Send one request; return the reply (new reference), or NULL when the transport
	 *  failed (the CLI prints "no answer"). Does not take req's reference. */
	json_t *(*exec)(void *arg, json_t *req);
	/** "quit": leave the prompt (and, in the daemon, stop it). */
	void (*quit)(void *arg);
	void *arg;
	int out_fd;  /**< tables and results */
	int err_fd;  /**< error replies and usage */
	bool json;   /**< print each reply as one JSON line instead */
};

/** Outcome of the last command (the exit status of portmux-ctl). */
enum pmx_cli_status {
	PMX_CLI_OK = 0,
	PMX_CLI_ERROR_REPLY = 1, /**< the daemon answered with an error */
	PMX_CLI_USAGE = 2,       /**< not a command, or bad arguments */
	PMX_CLI_NO_ANSWER = 3,   /**< the transport failed */
};

/** The command table, NULL-terminated, for cmdline_new() / cmdline_stdin_new(). */
extern cmdline_parse_ctx_t pmx_cli_ctx[];

/** Use ops (copied) for every command from now on. */
void pmx_cli_bind(const struct pmx_cli_ops *ops);

/**
 * Run one command line ("show port stats all") without a terminal.
 * @return the command's status; PMX_CLI_USAGE when no command matches (help printed to
 *         err_fd).
 */
enum pmx_cli_status pmx_cli_run_line(const char *line);

/** Print every command with its help to fd. */
void pmx_cli_help(int fd);

/* cli_print.c: the testpmd-style views of a reply's result */
void pmx_cli_print_port_stats(int fd, json_t *stats);
void pmx_cli_print_port_info(int fd, json_t *info);
void pmx_cli_print_clients(int fd, json_t *result);
void pmx_cli_print_latency(int fd, json_t *stats);
void pmx_cli_print_rules(int fd, json_t *result);
void pmx_cli_print_lcores(int fd, json_t *stats);
void pmx_cli_print_used_ports(int fd, json_t *result);

#endif
