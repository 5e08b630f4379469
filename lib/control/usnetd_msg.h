/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * usnetd_msg.h - internal to lib/control: usnetd's client messages as its datagram socket
 * carries them (usnetd_msg.c), one serde-JSON value per datagram in serde's externally
 * tagged form, and the answers it sends back. usnetd_sock.c serves the socket with them.
 *
 * Thread-safety: pure functions of their arguments.
 */
#ifndef PMX_USNETD_MSG_H
#define PMX_USNETD_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/** Longest datagram taken (usnetd's own receive buffer is 4000 bytes): longer is E2BIG. */
#define PMX_USNETD_MAX_MSG 4096
/** usnetd's two-byte answers to AddMatch (and ER to any request that fails). */
#define PMX_USNETD_OK "OK"
#define PMX_USNETD_ER "ER"
/** The byte that comes with the frame channel's descriptor, the answer to RequestUDS. */
#define PMX_USNETD_FD "$"

/** usnetd's ClientMessage variants a client sends. */
enum pmx_usnetd_kind {
	PMX_USNETD_INVALID = 0,         /**< anything else (why says what) */
	PMX_USNETD_REQUEST_UDS,         /**< {"RequestUDS":["eth0",PID]} */
	PMX_USNETD_REQUEST_NETMAP_PIPE, /**< {"RequestNetmapPipe":["eth0",PID]} */
	PMX_USNETD_DELETE_CLIENT,       /**< "DeleteClient" */
	PMX_USNETD_ADD_MATCH,           /**< {"AddMatch":WantMsg} */
	PMX_USNETD_REMOVE_MATCH,        /**< {"RemoveMatch":WantMsg} */
	PMX_USNETD_QUERY_USED_PORTS,    /**< "QueryUsedPorts" */
};

/** One datagram, decoded. */
struct pmx_usnetd_msg {
	enum pmx_usnetd_kind kind;
	char iface[64]; /**< Request*: the interface asked for */
	uint64_t pid;   /**< Request*: the client's task (usnet_sockets sends its thread id) */
	json_t *doc;    /**< the decoded value (owned; NULL when not JSON): what
			   *  pmx_ctl_execute() takes for AddMatch ... DeleteClient */
	char why[128];  /**< INVALID: what is wrong, for the log */
};

/**
 * Decode one datagram of len bytes. WantMsg's fields are checked where both of portmux's
 * sockets check them (ctl_usnetd.c), not here; only the variant and its shape are.
 * @return 0 (m->kind set), or with m->kind PMX_USNETD_INVALID and m->why filled: -E2BIG
 *         (longer than PMX_USNETD_MAX_MSG), -EINVAL (not JSON, an unknown variant, a wrong
 *         shape or type). Free m with pmx_usnetd_msg_free() either way.
 */
int pmx_usnetd_msg_parse(const void *buf, size_t len, struct pmx_usnetd_msg *m);

/** Release what m holds (accepts a zeroed m). */
void pmx_usnetd_msg_free(struct pmx_usnetd_msg *m);

/** The variant's name ("RequestUDS", ...; "invalid"), for logs and stats. */
const char *pmx_usnetd_kind_name(enum pmx_usnetd_kind kind);

/**
 * usnetd's answer to QueryUsedPorts, serde_json's compact text of result (the
 * {"QueryUsedPortsAnswer": {...}} object that ctl_usnetd.c builds). @return a malloc'd
 * string (the caller frees it), NULL on ENOMEM.
 */
char *pmx_usnetd_answer_text(const json_t *result);

#endif
