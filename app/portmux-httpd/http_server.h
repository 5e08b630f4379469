/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * http_server.h - a small HTTP/1.0 and HTTP/1.1 server on lwIP's raw TCP API.
 *
 * GET and HEAD of "/" (or "/index.html") answer 200 with a one-line text page naming lwIP's
 * version, the address and a request counter; GET /bytes/N (N up to 1 GiB) streams N bytes of
 * a fixed pattern, queued as the send buffer drains; POST /sha256 hashes a body of
 * Content-Length bytes (up to 1 GiB) as it arrives and answers its sha256 and length. Other
 * paths answer 404, other methods 501, unparsable or oversized requests 400 (411, 413 for
 * bodies without a length or too long). Every response carries "Connection: close": the
 * server closes the connection once the response is acknowledged. Connections are bounded
 * (more are reset), and so is the time a client may take to send its request or body, or to
 * acknowledge a response.
 *
 * Thread-safety: none; call from the thread that drives lwIP.
 */
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

#include <stdint.h>

#include <lwip/ip4_addr.h>
#include <lwip/tcp.h>

struct http_conn;

/** Counters of one server. */
struct http_server_stats {
	uint64_t connections; /**< accepted */
	uint64_t refused;     /**< reset at accept: too many open connections or no memory */
	uint64_t requests;    /**< complete requests answered (any status) */
	uint64_t ok;          /**< 200 */
	uint64_t not_found;   /**< 404 */
	uint64_t bad;         /**< 400, 405, 411, 413 and 501 */
	uint64_t timeouts;    /**< request not received, or response not acknowledged, in time */
	uint64_t body_in;     /**< POST /sha256 body bytes hashed */
	uint64_t body_out;    /**< /bytes/N bytes queued to lwIP */
};

/** A server. Fields are private to http_server.c except the stats. */
struct http_server {
	struct tcp_pcb *listener;
	char host[24]; /**< "a.b.c.d:port", shown in the page */
	unsigned max_conns;
	unsigned n_conns;
	struct http_conn *conns; /**< open connections, to reset them at stop */
	struct http_server_stats st;
};

/**
 * Listen on ip:port (lwIP must be initialised and the address configured on a netif).
 * @return 0, -ENOMEM (no PCB), -EADDRINUSE (lwIP refused the bind).
 */
int http_server_start(struct http_server *s, const ip4_addr_t *ip, uint16_t port,
		      unsigned max_conns);

/** Stop listening and reset every open connection. Accepts a server that never started. */
void http_server_stop(struct http_server *s);

#endif
