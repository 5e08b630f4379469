/* cli_table.c - the operator command table (librte_cmdline): words -> control request -> printed reply */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmdline.h>
#include <cmdline_parse.h>
#include <cmdline_parse_num.h>
#include <cmdline_parse_string.h>

#include "cli.h" /* last: it undoes cmdline's dprintf macro */

static struct pmx_cli_ops cli_ops = {.out_fd = 1, .err_fd = 2};
static enum pmx_cli_status cli_status;

#define PROTOS "tcp#udp#sctp#udplite#dccp#icmp#icmpv6"
#define WITH_PORT ((void *)1) /* instruction data: the words end in "port NIC" */

void pmx_cli_bind(const struct pmx_cli_ops *ops)
{
	cli_ops = *ops;
}

/* Send req (reference taken), print the reply with print (or raw), set the status. */
static void run(json_t *req, void (*print)(int fd, json_t *result))
{
	json_t *reply = cli_ops.exec != NULL ? cli_ops.exec(cli_ops.arg, req) : NULL;
	json_t *error;

	json_decref(req);
	if (reply == NULL) {
		dprintf(cli_ops.err_fd, "error: no answer from portmuxd\n");
		cli_status = PMX_CLI_NO_ANSWER;
		return;
	}
	cli_status = json_is_true(json_object_get(reply, "ok")) ? PMX_CLI_OK : PMX_CLI_ERROR_REPLY;
	if (cli_ops.json) {
		char *text = json_dumps(reply, JSON_COMPACT);

		dprintf(cli_ops.out_fd, "%s\n", text != NULL ? text : "null");
		free(text);
	} else if (cli_status == PMX_CLI_OK) {
		print(cli_ops.out_fd, json_object_get(reply, "result"));
	} else {
		error = json_object_get(reply, "error");
		dprintf(cli_ops.err_fd, "error: %s: %s\n",
			json_string_value(json_object_get(error, "code")),
			json_string_value(json_object_get(error, "message")));
	}
	json_decref(reply);
}

static void print_done(int fd, json_t *result)
{
	json_t *v = json_object_get(result, "rule_id");

	if (v != NULL)
		dprintf(fd, "rule %lld done\n", (long long)json_integer_value(v));
	else
		dprintf(fd, "done\n");
}

static void print_policy(int fd, json_t *result)
{
	dprintf(fd, "kernel policy: %s (was %s)\n",
		json_string_value(json_object_get(result, "policy")),
		json_string_value(json_object_get(result, "previous")));
}

static void print_kick(int fd, json_t *result)
{
	dprintf(fd, "client %lld (%s) detached\n",
		(long long)json_integer_value(json_object_get(result, "client_id")),
		json_string_value(json_object_get(result, "name")));
}

static void print_cleared(int fd, json_t *result)
{
	(void)result;
	dprintf(fd, "\n  NIC statistics for all ports cleared\n");
}

static void print_raw(int fd, json_t *result)
{
	char *text = json_dumps(result, JSON_INDENT(2));

	dprintf(fd, "%s\n", text != NULL ? text : "null");
	free(text);
}

/* ---- show ... ---- */

struct res_words {
	cmdline_fixed_string_t w[4];
};

static void cb_show_stats(void *res, struct cmdline *cl, void *data)
{
	(void)res, (void)cl, (void)data;
	run(json_pack("{s:s}", "cmd", "stats"), pmx_cli_print_port_stats);
}

static void cb_show_clients(void *res, struct cmdline *cl, void *data)
{
	(void)res, (void)cl, (void)data;
	run(json_pack("{s:s}", "cmd", "clients"), pmx_cli_print_clients);
}

static void cb_show_latency(void *res, struct cmdline *cl, void *data)
{
	(void)res, (void)cl, (void)data;
	run(json_pack("{s:s}", "cmd", "stats"), pmx_cli_print_latency);
}

static void cb_show_rules(void *res, struct cmdline *cl, void *data)
{
	(void)res, (void)cl, (void)data;
	run(json_pack("{s:s}", "cmd", "rules"), pmx_cli_print_rules);
}

static void cb_show_lcores(void *res, struct cmdline *cl, void *data)
{
	(void)res, (void)cl, (void)data;
	run(json_pack("{s:s}", "cmd", "stats"), pmx_cli_print_lcores);
}

static void cb_show_used(void *res, struct cmdline *cl, void *data)
{
	(void)res, (void)cl, (void)data;
	run(json_pack("{s:s}", "cmd", "used_ports"), pmx_cli_print_used_ports);
}

static void cb_clear_stats(void *res, struct cmdline *cl, void *data)
{
	(void)res, (void)cl, (void)data;
	run(json_pack("{s:s}", "cmd", "clear_stats"), print_cleared);
}

#define WORD(res, i, s) TOKEN_STRING_INITIALIZER(res, w[i], s)

static cmdline_parse_token_string_t t_show = WORD(struct res_words, 0, "show");
static cmdline_parse_token_string_t t_clear = WORD(struct res_words, 0, "clear");
static cmdline_parse_token_string_t t_port1 = WORD(struct res_words, 1, "port");
static cmdline_parse_token_string_t t_stats2 = WORD(struct res_words, 2, "stats");
static cmdline_parse_token_string_t t_all3 = WORD(struct res_words, 3, "all");
static cmdline_parse_token_string_t t_clients1 = WORD(struct res_words, 1, "clients");
static cmdline_parse_token_string_t t_rules1 = WORD(struct res_words, 1, "rules");
static cmdline_parse_token_string_t t_latency1 = WORD(struct res_words, 1, "latency");
static cmdline_parse_token_string_t t_lcores1 = WORD(struct res_words, 1, "lcores");
static cmdline_parse_token_string_t t_used1 = WORD(struct res_words, 1, "used");
static cmdline_parse_token_string_t t_ports2 = WORD(struct res_words, 2, "ports");

static cmdline_parse_inst_t cmd_show_stats = {
	.f = cb_show_stats,
	.help_str = "show port stats all: counters of every port (since the last clear)",
	.tokens = {(void *)&t_show, (void *)&t_port1, (void *)&t_stats2, (void *)&t_all3, NULL},
};
static cmdline_parse_inst_t cmd_clear_stats = {
	.f = cb_clear_stats,
	.help_str = "clear port stats all: count from zero again (the daemon keeps baselines)",
	.tokens = {(void *)&t_clear, (void *)&t_port1, (void *)&t_stats2, (void *)&t_all3, NULL},
};
static cmdline_parse_inst_t cmd_show_clients = {
	.f = cb_show_clients,
	.help_str = "show clients: attached clients with their counters",
	.tokens = {(void *)&t_show, (void *)&t_clients1, NULL},
};
static cmdline_parse_inst_t cmd_show_latency = {
	.f = cb_show_latency,
	.help_str = "show latency: per client, NIC RX -> dequeue p50/p99/max (since the last clear)",
	.tokens = {(void *)&t_show, (void *)&t_latency1, NULL},
};
static cmdline_parse_inst_t cmd_show_rules = {
	.f = cb_show_rules,
	.help_str = "show rules: every rule with its owner and hits",
	.tokens = {(void *)&t_show, (void *)&t_rules1, NULL},
};
static cmdline_parse_inst_t cmd_show_lcores = {
	.f = cb_show_lcores,
	.help_str = "show lcores: the management lcore and the RX lcores with their load",
	.tokens = {(void *)&t_show, (void *)&t_lcores1, NULL},
};
static cmdline_parse_inst_t cmd_show_used = {
	.f = cb_show_used,
	.help_str = "show used ports: ports taken by the kernel and by clients",
	.tokens = {(void *)&t_show, (void *)&t_used1, (void *)&t_ports2, NULL},
};

/* show port info N */
struct res_port_info {
	cmdline_fixed_string_t show, port, info;
	uint16_t port_id;
};

static void cb_port_info(void *res, struct cmdline *cl, void *data)
{
	struct res_port_info *r = res;

	(void)cl, (void)data;
	run(json_pack("{s:s, s:i}", "cmd", "port_info", "port", r->port_id),
	    pmx_cli_print_port_info);
}

static cmdline_parse_token_string_t t_pi_show = TOKEN_STRING_INITIALIZER(struct res_port_info, show, "show");
static cmdline_parse_token_string_t t_pi_port = TOKEN_STRING_INITIALIZER(struct res_port_info, port, "port");
static cmdline_parse_token_string_t t_pi_info = TOKEN_STRING_INITIALIZER(struct res_port_info, info, "info");
static cmdline_parse_token_num_t t_pi_id = TOKEN_NUM_INITIALIZER(struct res_port_info, port_id, RTE_UINT16);

static cmdline_parse_inst_t cmd_port_info = {
	.f = cb_port_info,
	.help_str = "show port info <port_id>: device, driver, link, kernel path, addresses, "
		    "flow offload",
	.tokens = {(void *)&t_pi_show, (void *)&t_pi_port, (void *)&t_pi_info, (void *)&t_pi_id,
		   NULL},
};

/* ---- rule add / rule del ---- */

struct res_rule {
	cmdline_fixed_string_t rule, add, kind, proto, lip;
	uint16_t lport;
	cmdline_fixed_string_t rip;
	uint16_t rport;
	cmdline_fixed_string_t owner, port_word, nic;
};

/* "kernel", "drop" or a client id. */
static json_t *owner_value(const char *s)
{
	char *end;
	long id = strtol(s, &end, 10);

	if (*s != '\0' && *end == '\0' && id >= 0)
		return json_integer(id);
	return json_string(s);
}

/* NIC port by number or name. */
static json_t *nic_value(const char *s)
{
	char *end;
	long id = strtol(s, &end, 10);

	if (*s != '\0' && *end == '\0' && id >= 0)
		return json_integer(id);
	return json_string(s);
}

static void cb_rule_add(void *res, struct cmdline *cl, void *data)
{
	struct res_rule *r = res;
	json_t *req = json_pack("{s:s, s:s, s:o}", "cmd", "rule_add", "kind", r->kind, "owner",
				owner_value(r->owner));

	(void)cl;
	if (strcmp(r->kind, "ip") == 0) {
		json_object_set_new(req, "local_ip", json_string(r->lip));
	} else {
		json_object_set_new(req, "proto", json_string(r->proto));
		json_object_set_new(req, "local_ip", json_string(r->lip));
		json_object_set_new(req, "local_port", json_integer(r->lport));
	}
	if (strcmp(r->kind, "connect") == 0) {
		json_object_set_new(req, "remote_ip", json_string(r->rip));
		json_object_set_new(req, "remote_port", json_integer(r->rport));
	}
	if (data == WITH_PORT)
		json_object_set_new(req, "port", nic_value(r->nic));
	run(req, print_done);
}

#define RULE_WORD(field, s) TOKEN_STRING_INITIALIZER(struct res_rule, field, s)
static cmdline_parse_token_string_t t_rule = RULE_WORD(rule, "rule");
static cmdline_parse_token_string_t t_add = RULE_WORD(add, "add");
static cmdline_parse_token_string_t t_listen = RULE_WORD(kind, "listen");
static cmdline_parse_token_string_t t_connect = RULE_WORD(kind, "connect");
static cmdline_parse_token_string_t t_ip = RULE_WORD(kind, "ip");
static cmdline_parse_token_string_t t_proto = RULE_WORD(proto, PROTOS);
static cmdline_parse_token_string_t t_lip = RULE_WORD(lip, NULL);
static cmdline_parse_token_num_t t_lport = TOKEN_NUM_INITIALIZER(struct res_rule, lport, RTE_UINT16);
static cmdline_parse_token_string_t t_rip = RULE_WORD(rip, NULL);
static cmdline_parse_token_num_t t_rport = TOKEN_NUM_INITIALIZER(struct res_rule, rport, RTE_UINT16);
static cmdline_parse_token_string_t t_owner = RULE_WORD(owner, NULL);
static cmdline_parse_token_string_t t_port_word = RULE_WORD(port_word, "port");
static cmdline_parse_token_string_t t_nic = RULE_WORD(nic, NULL);

#define LISTEN_TOKENS (void *)&t_rule, (void *)&t_add, (void *)&t_listen, (void *)&t_proto, \
	(void *)&t_lip, (void *)&t_lport, (void *)&t_owner
#define CONNECT_TOKENS (void *)&t_rule, (void *)&t_add, (void *)&t_connect, (void *)&t_proto, \
	(void *)&t_lip, (void *)&t_lport, (void *)&t_rip, (void *)&t_rport, (void *)&t_owner
#define IP_TOKENS (void *)&t_rule, (void *)&t_add, (void *)&t_ip, (void *)&t_lip, (void *)&t_owner

static cmdline_parse_inst_t cmd_rule_listen = {
	.f = cb_rule_add,
	.help_str = "rule add listen <proto> <ip|*> <port> <kernel|drop|client_id> [port <nic>]: "
		    "steer (proto, ip, port) to an owner",
	.tokens = {LISTEN_TOKENS, NULL},
};
static cmdline_parse_inst_t cmd_rule_listen_port = {
	.f = cb_rule_add, .data = WITH_PORT,
	.help_str = "rule add listen <proto> <ip|*> <port> <owner> port <nic>",
	.tokens = {LISTEN_TOKENS, (void *)&t_port_word, (void *)&t_nic, NULL},
};
static cmdline_parse_inst_t cmd_rule_connect = {
	.f = cb_rule_add,
	.help_str = "rule add connect <proto> <local_ip> <local_port> <remote_ip> <remote_port> "
		    "<kernel|drop|client_id> [port <nic>]: steer one connection to an owner",
	.tokens = {CONNECT_TOKENS, NULL},
};
static cmdline_parse_inst_t cmd_rule_connect_port = {
	.f = cb_rule_add, .data = WITH_PORT,
	.help_str = "rule add connect <proto> <lip> <lport> <rip> <rport> <owner> port <nic>",
	.tokens = {CONNECT_TOKENS, (void *)&t_port_word, (void *)&t_nic, NULL},
};
static cmdline_parse_inst_t cmd_rule_ip = {
	.f = cb_rule_add,
	.help_str = "rule add ip <ip> <kernel|drop|client_id> [port <nic>]: steer all traffic to "
		    "an address to an owner",
	.tokens = {IP_TOKENS, NULL},
};
static cmdline_parse_inst_t cmd_rule_ip_port = {
	.f = cb_rule_add, .data = WITH_PORT,
	.help_str = "rule add ip <ip> <owner> port <nic>",
	.tokens = {IP_TOKENS, (void *)&t_port_word, (void *)&t_nic, NULL},
};

/* rule del ID, kick ID */
struct res_id {
	cmdline_fixed_string_t w0, w1;
	uint32_t id;
};

static void cb_rule_del(void *res, struct cmdline *cl, void *data)
{
	struct res_id *r = res;

	(void)cl, (void)data;
	run(json_pack("{s:s, s:I}", "cmd", "rule_del", "rule_id", (json_int_t)r->id), print_done);
}

static void cb_kick(void *res, struct cmdline *cl, void *data)
{
	struct res_id *r = res;

	(void)cl, (void)data;
	run(json_pack("{s:s, s:I}", "cmd", "kick", "client_id", (json_int_t)r->id), print_kick);
}

static cmdline_parse_token_string_t t_del_rule = TOKEN_STRING_INITIALIZER(struct res_id, w0, "rule");
static cmdline_parse_token_string_t t_del = TOKEN_STRING_INITIALIZER(struct res_id, w1, "del");
static cmdline_parse_token_num_t t_del_id = TOKEN_NUM_INITIALIZER(struct res_id, id, RTE_UINT32);
static cmdline_parse_token_string_t t_kick = TOKEN_STRING_INITIALIZER(struct res_id, w0, "kick");
static cmdline_parse_token_num_t t_kick_id = TOKEN_NUM_INITIALIZER(struct res_id, id, RTE_UINT32);

static cmdline_parse_inst_t cmd_rule_del = {
	.f = cb_rule_del,
	.help_str = "rule del <rule_id>: delete any rule (show rules lists them)",
	.tokens = {(void *)&t_del_rule, (void *)&t_del, (void *)&t_del_id, NULL},
};
static cmdline_parse_inst_t cmd_kick = {
	.f = cb_kick,
	.help_str = "kick <client_id>: detach a client (its rules and rings are released)",
	.tokens = {(void *)&t_kick, (void *)&t_kick_id, NULL},
};

/* set kernel policy pass|firewall */
struct res_policy {
	cmdline_fixed_string_t set, kernel, policy, value;
};

static void cb_policy(void *res, struct cmdline *cl, void *data)
{
	struct res_policy *r = res;

	(void)cl, (void)data;
	run(json_pack("{s:s, s:s}", "cmd", "set_kernel_policy", "policy", r->value), print_policy);
}

static cmdline_parse_token_string_t t_set = TOKEN_STRING_INITIALIZER(struct res_policy, set, "set");
static cmdline_parse_token_string_t t_kernel = TOKEN_STRING_INITIALIZER(struct res_policy, kernel, "kernel");
static cmdline_parse_token_string_t t_policy = TOKEN_STRING_INITIALIZER(struct res_policy, policy, "policy");
static cmdline_parse_token_string_t t_policy_value = TOKEN_STRING_INITIALIZER(struct res_policy, value, "pass#firewall");

static cmdline_parse_inst_t cmd_policy = {
	.f = cb_policy,
	.help_str = "set kernel policy pass|firewall: what unmatched traffic does",
	.tokens = {(void *)&t_set, (void *)&t_kernel, (void *)&t_policy, (void *)&t_policy_value,
		   NULL},
};

/* request JSON */
struct res_request {
	cmdline_fixed_string_t word;
	cmdline_multi_string_t json;
};

static void cb_request(void *res, struct cmdline *cl, void *data)
{
	struct res_request *r = res;
	json_error_t jerr;
	json_t *req = json_loads(r->json, JSON_DECODE_ANY, &jerr);

	(void)cl, (void)data;
	if (req == NULL) {
		dprintf(cli_ops.err_fd, "error: invalid JSON: %s\n", jerr.text);
		cli_status = PMX_CLI_USAGE;
		return;
	}
	run(req, print_raw);
}

static cmdline_parse_token_string_t t_request = TOKEN_STRING_INITIALIZER(struct res_request, word, "request");
static cmdline_parse_token_string_t t_request_json = TOKEN_STRING_INITIALIZER(struct res_request, json, TOKEN_STRING_MULTI);

static cmdline_parse_inst_t cmd_request = {
	.f = cb_request,
	.help_str = "request <json>: send any control API request, e.g. request {\"cmd\":\"used_ports\"}",
	.tokens = {(void *)&t_request, (void *)&t_request_json, NULL},
};

/* help, quit */
static void cb_help(void *res, struct cmdline *cl, void *data)
{
	(void)res, (void)cl, (void)data;
	pmx_cli_help(cli_ops.out_fd);
	cli_status = PMX_CLI_OK;
}

static void cb_quit(void *res, struct cmdline *cl, void *data)
{
	(void)res, (void)data;
	cli_status = PMX_CLI_OK;
	if (cli_ops.quit != NULL)
		cli_ops.quit(cli_ops.arg);
	if (cl != NULL)
		cmdline_quit(cl);
}

static cmdline_parse_token_string_t t_help = WORD(struct res_words, 0, "help");
static cmdline_parse_token_string_t t_quit = WORD(struct res_words, 0, "quit");

static cmdline_parse_inst_t cmd_help = {
	.f = cb_help,
	.help_str = "help: this list (TAB completes, ? shows the choices)",
	.tokens = {(void *)&t_help, NULL},
};
static cmdline_parse_inst_t cmd_quit = {
	.f = cb_quit,
	.help_str = "quit: leave the prompt (portmuxd -i: stop the daemon)",
	.tokens = {(void *)&t_quit, NULL},
};

cmdline_parse_ctx_t pmx_cli_ctx[] = {
	&cmd_show_stats, &cmd_port_info, &cmd_show_clients, &cmd_show_latency, &cmd_show_rules,
	&cmd_show_lcores,
	&cmd_show_used, &cmd_clear_stats, &cmd_rule_listen, &cmd_rule_listen_port,
	&cmd_rule_connect, &cmd_rule_connect_port, &cmd_rule_ip, &cmd_rule_ip_port,
	&cmd_rule_del, &cmd_policy, &cmd_kick, &cmd_request, &cmd_help, &cmd_quit, NULL,
};

void pmx_cli_help(int fd)
{
	dprintf(fd, "Commands:\n");
	for (unsigned i = 0; pmx_cli_ctx[i] != NULL; i++) {
		const char *h = pmx_cli_ctx[i]->help_str, *colon = strstr(h, ": ");

		if (pmx_cli_ctx[i]->data == WITH_PORT)
			continue;
		/* "command:  what it does": two spaces, the form help2man makes a man page's
		 * list of (portmux-ctl(8) shows this list) */
		if (colon != NULL)
			dprintf(fd, "  %.*s:  %s\n", (int)(colon - h), h, colon + 2);
		else
			dprintf(fd, "  %s\n", h);
	}
}

enum pmx_cli_status pmx_cli_run_line(const char *line)
{
	char buf[STR_MULTI_TOKEN_SIZE + 8];
	struct cmdline *cl;
	int ret, out;

	if (strlen(line) >= STR_MULTI_TOKEN_SIZE) {
		dprintf(cli_ops.err_fd, "error: command longer than %d bytes\n", STR_MULTI_TOKEN_SIZE);
		return cli_status = PMX_CLI_USAGE;
	}
	snprintf(buf, sizeof(buf), "%s\n", line);
	/* cmdline_free() closes the output fd: give it a copy of err_fd */
	out = dup(cli_ops.err_fd);
	cl = out >= 0 ? cmdline_new(pmx_cli_ctx, "", -1, out) : NULL;
	if (cl == NULL) {
		if (out >= 0)
			close(out);
		return cli_status = PMX_CLI_NO_ANSWER;
	}
	cli_status = PMX_CLI_USAGE;
	ret = cmdline_parse(cl, buf);
	cmdline_free(cl);
	if (ret == CMDLINE_PARSE_NOMATCH || ret == CMDLINE_PARSE_BAD_ARGS ||
	    ret == CMDLINE_PARSE_AMBIGUOUS) {
		dprintf(cli_ops.err_fd, "error: not a command: %s\n", line);
		pmx_cli_help(cli_ops.err_fd);
		return cli_status = PMX_CLI_USAGE;
	}
	return cli_status;
}
