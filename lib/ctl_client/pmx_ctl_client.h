/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pmx_ctl_client.h - one client of portmuxd's control socket: JSON objects, one per line, over
 * a UNIX stream socket (request {"cmd": ..., "id": N, ...}; reply {"id": N, "ok": true,
 * "result": {...}} or {"id": N, "ok": false, "error": {"code": ..., "message": ...}}).
 *
 * Needs jansson and libc only (no DPDK): libportmux-client, portmux-ctl and the benchmarks
 * link it. A client is one connection; requests may be pipelined (pmx_ctl_client_queue() a
 * few, pmx_ctl_client_flush(), then pmx_ctl_client_wait() for each id in order), as the
 * daemon answers one connection's requests in the order they came.
 *
 * Errors: 0 is success; a transport or protocol failure is a negative errno, after which the
 * connection is out of step with the daemon (every later call returns -ENOTCONN: close it);
 * an error reply of the daemon is -PMX_CTL_CLIENT_EREPLY, with its code and message kept
 * (pmx_ctl_client_error_code(), pmx_ctl_client_error_message()), and the connection stays
 * usable.
 */
#ifndef PMX_CTL_CLIENT_H
#define PMX_CTL_CLIENT_H

#include <errno.h>
#include <stddef.h>

#include <jansson.h>

/** The (negated) return of an error reply {"ok": false, ...}: no transport error is it. */
#define PMX_CTL_CLIENT_EREPLY EREMOTEIO

/** The longest reply line accepted when pmx_ctl_client_opts.max_line is 0 (16 MiB). */
#define PMX_CTL_CLIENT_MAX_LINE (16u * 1024 * 1024)

/** Options of pmx_ctl_client_open(). All zero: one connect attempt, no reply timeout. */
struct pmx_ctl_client_opts {
	unsigned connect_wait_ms; /**< retry connect() for this long while the socket is missing
				   *  or refuses (-ENOENT, -ECONNREFUSED, -EAGAIN): after 50 ms,
				   *  100 ms, ... doubling up to 1 s between tries */
	unsigned timeout_ms;      /**< longest wait for a reply, or to send a request
				   *  (0: for ever) */
	size_t max_line;          /**< longest reply line (0: PMX_CTL_CLIENT_MAX_LINE) */
};

/** One connection to the control socket (opaque). */
struct pmx_ctl_client;

/**
 * Connect to the UNIX stream socket at path. Thread-safe (touches no shared state).
 * @param opts NULL for the defaults.
 * @return 0 (*out set; free with pmx_ctl_client_close()), or a negative errno: -EINVAL (path
 *         or out NULL), -ENAMETOOLONG (path does not fit a sockaddr_un), -ENOMEM,
 *         -ETIMEDOUT (opts->connect_wait_ms passed with the socket still missing or
 *         refusing), or socket()'s or connect()'s -errno (-ENOENT and -ECONNREFUSED when
 *         no daemon listens and no wait was asked, -EACCES, ...).
 */
int pmx_ctl_client_open(const char *path, const struct pmx_ctl_client_opts *opts,
			struct pmx_ctl_client **out);

/**
 * Close the connection and free c (NULL is fine). Not thread-safe: no other call on c may
 * run or follow. Replies not read are dropped.
 */
void pmx_ctl_client_close(struct pmx_ctl_client *c);

/** The connection's socket (for poll() by the caller; do not read it). Thread-safe. */
int pmx_ctl_client_fd(const struct pmx_ctl_client *c);

/**
 * Append one request to the output buffer, not sent yet (pmx_ctl_client_flush() sends).
 * Not thread-safe: one thread uses c at a time. req (borrowed) must be a JSON object; an
 * integer "id" in it is kept (the caller's), else the client writes the next id of its own
 * (1, 2, ...) into req.
 * @return 0 (*id set when id is not NULL), -EINVAL (req not an object), -ENOMEM,
 *         -ENOTCONN (the connection failed before).
 */
int pmx_ctl_client_queue(struct pmx_ctl_client *c, json_t *req, json_int_t *id);

/**
 * Send everything queued (waits at most opts.timeout_ms for the socket to take it).
 * Not thread-safe: one thread uses c at a time.
 * @return 0, -ETIMEDOUT, -ENOTCONN (the connection failed before), or send()'s -errno
 *         (-EPIPE, -ECONNRESET: the daemon closed the connection).
 */
int pmx_ctl_client_flush(struct pmx_ctl_client *c);

/** pmx_ctl_client_queue() then pmx_ctl_client_flush(): same thread-safety and returns. */
int pmx_ctl_client_send(struct pmx_ctl_client *c, json_t *req, json_int_t *id);

/**
 * Read the next reply line (partial reads and lines longer than one read are joined), parse
 * it and check that it answers request id: its "id" is id, or null or absent (the daemon
 * answers so what it could not read: invalid JSON, too long, too many connections). Waits at
 * most opts.timeout_ms. Not thread-safe: one thread uses c at a time.
 * @return 0 (*reply set: the whole reply object, new reference, "ok" true or false), or
 *         -ETIMEDOUT, -ECONNRESET (the daemon closed the connection, also in mid-line),
 *         -EMSGSIZE (a line over opts.max_line), -EPROTO (a line that is not a JSON object,
 *         or answers another id), -ENOMEM, -ENOTCONN (the connection failed before), or
 *         recv()'s -errno.
 */
int pmx_ctl_client_wait(struct pmx_ctl_client *c, json_int_t id, json_t **reply);

/**
 * What a reply says. Not thread-safe (keeps the error in c).
 * @return 0 ("ok" true: *result set to "result", new reference, an empty object when the
 *         reply has none), -PMX_CTL_CLIENT_EREPLY ("ok" false: the code and message are
 *         pmx_ctl_client_error_code() and _message()), -EPROTO ("ok" missing or not a
 *         boolean), -ENOMEM. result may be NULL.
 */
int pmx_ctl_client_result(struct pmx_ctl_client *c, const json_t *reply, json_t **result);

/**
 * pmx_ctl_client_send(), then pmx_ctl_client_wait() for its reply. Not thread-safe.
 * @return as pmx_ctl_client_send() and pmx_ctl_client_wait() (*reply set on 0).
 */
int pmx_ctl_client_exchange(struct pmx_ctl_client *c, json_t *req, json_t **reply);

/**
 * One request, one result: pmx_ctl_client_exchange(), then pmx_ctl_client_result().
 * Not thread-safe: one thread uses c at a time. result may be NULL.
 * @return 0 (*result set when not NULL), -PMX_CTL_CLIENT_EREPLY (the daemon refused:
 *         pmx_ctl_client_error_code()), or a transport error as pmx_ctl_client_exchange().
 */
int pmx_ctl_client_call(struct pmx_ctl_client *c, json_t *req, json_t **result);

/**
 * The "code" of the last error reply (e.g. "EEXIST"), "" when it had none. Valid until the
 * next call on c. Not thread-safe.
 */
const char *pmx_ctl_client_error_code(const struct pmx_ctl_client *c);

/** The "message" of the last error reply, "" when it had none. As pmx_ctl_client_error_code(). */
const char *pmx_ctl_client_error_message(const struct pmx_ctl_client *c);

/**
 * Look at the connection without waiting or reading: one recv(MSG_PEEK | MSG_DONTWAIT) on the
 * socket. Thread-safe, also against the other calls on c (it reads only the socket, not c's
 * buffers), so a watchdog may call it while another thread waits for a reply.
 * @return 0 (open, nothing unread), 1 (open, bytes unread: a reply or unsolicited data),
 *         -ECONNRESET (the daemon closed the connection, or it broke), or recv()'s other
 *         -errno.
 */
int pmx_ctl_client_peek(const struct pmx_ctl_client *c);

#endif
