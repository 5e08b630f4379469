/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_fixture.h - a control plane for the unit tests: a private network namespace (port
 * reservations and /proc/net are the test's own), EAL in memory without hugepages, a switch
 * with two ports and one RX worker that never runs, and the control socket in a temp dir.
 * Port 0 "wan0" (198.18.0.1, fd00::1) counts as having a kernel path (ports are reserved);
 * port 1 "lan1" (198.19.0.1) has none.
 */
#ifndef PMX_CTL_FIXTURE_H
#define PMX_CTL_FIXTURE_H

#include <stdbool.h>

#include <jansson.h>

#include "ctl.h"

struct ctl_fixture {
	struct pmx_config cfg;
	struct pmx_switch sw;
	struct pmx_ctl ctl;
	char dir[64];
	char sock[96];
	char usnetd_sock[96]; /**< usnetd's socket, open when fx_usnetd was set */
};

extern struct ctl_fixture F;

/** When set before fx_setup(): the config's "rules" (JSON array text). */
extern const char *fx_config_rules;

/** When set before fx_setup(): usnetd's socket is on, at F.usnetd_sock, mode 0666. */
extern bool fx_usnetd;

/**
 * Enter a network namespace of the process's own (bound ports and /proc/net are then the
 * test's alone). Exits the process on failure (not root).
 */
void fx_netns_enter(const char *prog);

/** fx_netns_enter(), then start EAL. Exits the process on failure. */
void fx_eal_init(const char *prog);

/**
 * Build the switch and open the control plane (CUnit suite init: 0 or -1). EAL must run;
 * the fuzzer starts its own (tests/fuzz/fuzz_ctl.c).
 */
int fx_setup(void);
/** Close the control plane and free the switch (CUnit suite cleanup). */
int fx_teardown(void);

/** A session that is not a socket, as the prompt or the fuzzer uses them. */
struct pmx_ctl_session *fx_session(bool admin, uid_t uid);
/** Detach (if attached) and free. */
void fx_session_free(struct pmx_ctl_session *s);

/** fx_setup(), then an operator session (root) and a user's (uid 65534). 0 or -1. */
int fx_setup_sessions(struct pmx_ctl_session **root, struct pmx_ctl_session **user);
/** Free both sessions of fx_setup_sessions(), then fx_teardown(). */
int fx_teardown_sessions(struct pmx_ctl_session *root, struct pmx_ctl_session *user);

/**
 * Execute request text in session s. @return "ok" or the error code (static storage,
 * valid until the next call); *result (when not NULL) gets the reply's result or error
 * object (new reference).
 */
const char *fx_call(struct pmx_ctl_session *s, const char *text, json_t **result);

/** Hello (+ optional name) and return the client id, or -1. */
int fx_hello(struct pmx_ctl_session *s, const char *name);

/** bind() a socket (SO_REUSEADDR off) to proto/ip/port and close it: 0 or -errno. */
int fx_bind_probe(int type, const char *ip, unsigned port);

/** A listening TCP socket on ip:port (the "kernel" using a port): fd or -errno. */
int fx_kernel_listen(const char *ip, unsigned port);

#endif
