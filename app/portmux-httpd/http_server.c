/* http_server.c - HTTP/1.x on lwIP's raw TCP API: a page, /bytes/N out, POST /sha256 in */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lwip/init.h>
#include <nettle/sha2.h>

#include "http_request.h"
#include "http_server.h"

#define HTTP_REQ_MAX 2048     /* request line and headers; longer requests get 400 */
#define HTTP_POLL_INTERVAL 2  /* lwIP coarse ticks (500 ms): poll every second */
#define HTTP_READ_TIMEOUT 10  /* polls a client has to send its request */
#define HTTP_DRAIN_TIMEOUT 10 /* polls the client has to close after the response */
#define HTTP_SEND_TIMEOUT 10  /* polls the client may acknowledge nothing of /bytes/N */
#define HTTP_LISTEN_BACKLOG 64
#define HTTP_BODY_MAX (1ull << 30)             /* longest POST /sha256 body and /bytes/N: 1 GiB */
#define HTTP_CHUNK 16384                       /* /bytes/N: bytes generated per tcp_write() */
#define HTTP_PATTERN_MUL 0x9E3779B97F4A7C15ull /* /bytes/N: word k is k times this */

enum http_state {
	HTTP_READING,  /* waiting for the end of the request headers */
	HTTP_BODY,     /* POST /sha256: hashing the body as it arrives */
	HTTP_SENDING,  /* GET /bytes/N: queueing the pattern as the send buffer drains */
	HTTP_DRAINING, /* response and FIN sent: reading (and dropping) until the client's FIN */
	HTTP_CLOSING,  /* tcp_close() failed for lack of memory: retried from poll */
};

struct http_conn {
	struct http_server *server;
	struct tcp_pcb *pcb;
	struct http_conn *next, **pprev; /* in server->conns */
	enum http_state state;
	unsigned idle_polls;
	int minor;      /* of the request being answered */
	bool head_only; /* HEAD: no body in the response */
	uint64_t left;  /* HTTP_BODY: body bytes still to read; HTTP_SENDING: still to queue */
	uint64_t done;  /* HTTP_BODY: hashed; HTTP_SENDING: queued (the offset in the pattern) */
	struct sha256_ctx sha;
	size_t len;
	char req[HTTP_REQ_MAX];
};

static err_t on_poll(void *arg, struct tcp_pcb *pcb);
static void on_err(void *arg, err_t err);

static void conn_free(struct http_conn *hc)
{
	*hc->pprev = hc->next;
	if (hc->next != NULL)
		hc->next->pprev = hc->pprev;
	hc->server->n_conns--;
	free(hc);
}

/* Detach our callbacks from the PCB, so lwIP never calls back into a freed connection. */
static void conn_unhook(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_poll(pcb, NULL, 0);
}

/* Close gracefully (FIN). When lwIP is out of memory the close is retried from poll. */
static void conn_close(struct http_conn *hc)
{
	struct tcp_pcb *pcb = hc->pcb;

	conn_unhook(pcb);
	if (tcp_close(pcb) == ERR_OK) {
		conn_free(hc);
		return;
	}
	/* out of memory: keep the connection and retry from poll */
	hc->state = HTTP_CLOSING;
	tcp_arg(pcb, hc);
	tcp_err(pcb, on_err);
	tcp_poll(pcb, on_poll, HTTP_POLL_INTERVAL);
}

/* Reset the connection (RST); the caller must return ERR_ABRT to lwIP if inside a callback. */
static void conn_abort(struct http_conn *hc)
{
	struct tcp_pcb *pcb = hc->pcb;

	conn_unhook(pcb);
	conn_free(hc);
	tcp_abort(pcb);
}

/* Close our sending side at once (RFC 7230 6.6: the server that sent "Connection: close"
 * closes first, in two stages), then read until the client's FIN so that late request bytes do
 * not make lwIP reset the connection before the client has read the response. */
static err_t finish(struct http_conn *hc)
{
	hc->state = HTTP_DRAINING;
	hc->idle_polls = 0;
	if (tcp_shutdown(hc->pcb, 0, 1) != ERR_OK)
		conn_close(hc); /* no memory for the FIN: close now, retried from poll */
	else
		tcp_output(hc->pcb);
	return ERR_OK;
}

/* Queue a response head (status line, fields, extra fields each ending in CRLF) and, unless
 * the request was HEAD, body (NULL: none, the content follows). @return 0 or -ENOMEM. */
static int write_head(struct http_conn *hc, const char *status, const char *type, uint64_t length,
		      const char *extra, const char *body)
{
	char out[512];
	int len = snprintf(out, sizeof(out),
			   "%s %s\r\nServer: portmux-httpd\r\nContent-Type: %s\r\n"
			   "Content-Length: %llu\r\n%sConnection: close\r\n\r\n%s",
			   hc->minor ? "HTTP/1.1" : "HTTP/1.0", status, type,
			   (unsigned long long)length, extra, hc->head_only || !body ? "" : body);

	if (len < 0 || (size_t)len >= sizeof(out) ||
	    tcp_write(hc->pcb, out, (u16_t)len, TCP_WRITE_FLAG_COPY) != ERR_OK)
		return -ENOMEM;
	return 0;
}

/* A whole response with a short text body, then the close; counted in ok/not_found/bad by
 * its status. */
static err_t reply(struct http_conn *hc, const char *status, const char *extra, const char *body)
{
	struct http_server_stats *st = &hc->server->st;

	if (strncmp(status, "200", 3) == 0)
		st->ok++;
	else if (strncmp(status, "404", 3) == 0)
		st->not_found++;
	else
		st->bad++;
	if (write_head(hc, status, "text/plain", strlen(body), extra, body) != 0) {
		conn_abort(hc);
		return ERR_ABRT;
	}
	return finish(hc);
}

/* /bytes/N's content: the little-endian 64-bit words k * HTTP_PATTERN_MUL (mod 2^64) for
 * k = 0, 1, 2, ...; byte i of the body is byte i % 8 of word i / 8. */
static void pattern_fill(uint8_t *buf, uint64_t off, size_t n)
{
	for (size_t i = 0; i < n; i++, off++)
		buf[i] = (uint8_t)(((off >> 3) * HTTP_PATTERN_MUL) >> ((off & 7) * 8));
}

/* Queue as much of /bytes/N as lwIP's send buffer takes (on_sent calls again as the client
 * acknowledges); once all of it is queued, close our side. */
static err_t send_more(struct http_conn *hc)
{
	uint8_t chunk[HTTP_CHUNK];
	struct tcp_pcb *pcb = hc->pcb;
	err_t err;

	while (hc->left > 0) {
		size_t n = tcp_sndbuf(pcb);

		if (n > sizeof(chunk))
			n = sizeof(chunk);
		if (n > hc->left)
			n = (size_t)hc->left;
		if (n == 0)
			break;
		pattern_fill(chunk, hc->done, n);
		err = tcp_write(pcb, chunk, (u16_t)n,
				TCP_WRITE_FLAG_COPY | (hc->left > n ? TCP_WRITE_FLAG_MORE : 0));
		if (err == ERR_MEM)
			break; /* the segment queue is full: on_sent (or on_poll) calls again */
		if (err != ERR_OK) {
			conn_abort(hc);
			return ERR_ABRT;
		}
		hc->done += n;
		hc->left -= n;
		hc->server->st.body_out += n;
	}
	if (hc->left == 0)
		return finish(hc);
	tcp_output(pcb);
	return ERR_OK;
}

/* GET or HEAD /bytes/N: the head, then the pattern as the send buffer drains. */
static err_t start_download(struct http_conn *hc, uint64_t n)
{
	hc->server->st.ok++;
	if (write_head(hc, "200 OK", "application/octet-stream", n, "", NULL) != 0) {
		conn_abort(hc);
		return ERR_ABRT;
	}
	if (hc->head_only || n == 0)
		return finish(hc);
	hc->state = HTTP_SENDING;
	hc->left = n;
	hc->done = 0;
	hc->idle_polls = 0;
	return send_more(hc);
}

/* Hash up to what is left of the body from buf. */
static void body_feed(struct http_conn *hc, const void *buf, size_t n)
{
	if (n > hc->left)
		n = (size_t)hc->left; /* bytes after the body: dropped */
	sha256_update(&hc->sha, n, buf);
	hc->left -= n;
	hc->done += n;
	hc->server->st.body_in += n;
}

/* Hash the body bytes of the chain p from offset off on. */
static void body_feed_pbuf(struct http_conn *hc, const struct pbuf *p, size_t off)
{
	for (const struct pbuf *q = p; q != NULL && hc->left > 0; q = q->next) {
		if (off >= q->len) {
			off -= q->len;
			continue;
		}
		body_feed(hc, (const uint8_t *)q->payload + off, q->len - off);
		off = 0;
	}
}

/* The whole body is in: answer its sha256 (hex) and length. */
static err_t upload_done(struct http_conn *hc)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t digest[SHA256_DIGEST_SIZE];
	char body[2 * SHA256_DIGEST_SIZE + 32];
	int off;

	sha256_digest(&hc->sha, sizeof(digest), digest);
	for (size_t i = 0; i < sizeof(digest); i++) {
		body[2 * i] = hex[digest[i] >> 4];
		body[2 * i + 1] = hex[digest[i] & 15];
	}
	off = 2 * SHA256_DIGEST_SIZE;
	snprintf(body + off, sizeof(body) - off, " %llu\n", (unsigned long long)hc->done);
	return reply(hc, "200 OK", "", body);
}

/* POST /sha256: check the body's length, hash what came with the head (in hc->req from
 * head_len on, and in p from offset used on), then read the rest in on_recv. */
static err_t start_upload(struct http_conn *hc, const struct http_request *req,
			  const struct pbuf *p, size_t used)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

	if (req->has_transfer_encoding)
		return reply(hc, "501 Not Implemented", "",
			     "no transfer codings: send "
			     "Content-Length\n");
	if (!req->has_length)
		return reply(hc, "411 Length Required", "", "Content-Length required\n");
	if (req->content_length > HTTP_BODY_MAX)
		return reply(hc, "413 Content Too Large", "", "at most 1073741824 bytes\n");
	sha256_init(&hc->sha);
	hc->state = HTTP_BODY;
	hc->left = req->content_length;
	hc->done = 0;
	body_feed(hc, hc->req + req->head_len, hc->len - req->head_len);
	body_feed_pbuf(hc, p, used);
	if (hc->left == 0)
		return upload_done(hc);
	if (req->expect_continue && req->minor == 1) {
		if (tcp_write(hc->pcb, cont, sizeof(cont) - 1, TCP_WRITE_FLAG_COPY) != ERR_OK) {
			conn_abort(hc);
			return ERR_ABRT;
		}
		tcp_output(hc->pcb);
	}
	return ERR_OK;
}

/* The head is complete, bad or too long (ret from http_request_parse): route the request.
 * p (of which used bytes went to hc->req) may hold the start of a body. */
static err_t dispatch(struct http_conn *hc, int ret, const struct http_request *req,
		      const struct pbuf *p, size_t used)
{
	struct http_server *s = hc->server;
	char page[160];
	uint64_t n;
	int bytes;

	s->st.requests++;
	hc->minor = ret > 0 ? req->minor : 0;
	hc->head_only = ret > 0 && req->method == HTTP_METHOD_HEAD;
	if (ret <= 0)
		return reply(hc, "400 Bad Request", "", "bad request\n");
	if (req->method == HTTP_METHOD_POST && strcmp(req->path, "/sha256") == 0)
		return start_upload(hc, req, p, used);
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD)
		return reply(hc, "501 Not Implemented", "",
			     "only GET and HEAD (and POST /sha256)\n");
	if (strcmp(req->path, "/") == 0 || strcmp(req->path, "/index.html") == 0) {
		snprintf(page, sizeof(page), "portmux-httpd (lwIP %s) on %s, request %llu\n",
			 LWIP_VERSION_STRING, s->host, (unsigned long long)s->st.requests);
		return reply(hc, "200 OK", "", page);
	}
	if (strcmp(req->path, "/sha256") == 0)
		return reply(hc, "405 Method Not Allowed", "Allow: POST\r\n", "POST a body\n");
	bytes = http_request_bytes_path(req->path, HTTP_BODY_MAX, &n);
	if (bytes < 0)
		return reply(hc, "400 Bad Request", "", "/bytes/N: N from 0 to 1073741824\n");
	if (bytes > 0)
		return start_download(hc, n);
	return reply(hc, "404 Not Found", "", "not found\n");
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct http_conn *hc = arg;
	struct http_request req;
	size_t room;
	int ret;

	if (p == NULL) { /* the client closed its side: nothing more to read or answer */
		conn_close(hc);
		return ERR_OK;
	}
	tcp_recved(pcb, p->tot_len); /* hashed or dropped at once: the window stays open */
	if (err != ERR_OK || (hc->state != HTTP_READING && hc->state != HTTP_BODY)) {
		pbuf_free(p); /* data after the request: dropped */
		return ERR_OK;
	}
	hc->idle_polls = 0;
	if (hc->state == HTTP_BODY) {
		body_feed_pbuf(hc, p, 0);
		pbuf_free(p);
		return hc->left == 0 ? upload_done(hc) : ERR_OK;
	}
	room = sizeof(hc->req) - hc->len; /* what does not fit: the head is too long */
	if (room > p->tot_len)
		room = p->tot_len;
	room = pbuf_copy_partial(p, hc->req + hc->len, (u16_t)room, 0);
	hc->len += room;
	ret = http_request_parse(hc->req, hc->len, sizeof(hc->req), &req);
	err = ret == 0 ? ERR_OK : dispatch(hc, ret, &req, p, room);
	pbuf_free(p); /* ours in any case (ERR_ABRT included) */
	return err;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct http_conn *hc = arg;

	(void)pcb;
	(void)len;
	hc->idle_polls = 0;
	return hc->state == HTTP_SENDING ? send_more(hc) : ERR_OK;
}

static err_t on_poll(void *arg, struct tcp_pcb *pcb)
{
	struct http_conn *hc = arg;

	(void)pcb;
	hc->idle_polls++;
	if (hc->state == HTTP_CLOSING) {
		conn_close(hc);
	} else if (hc->state == HTTP_SENDING) {
		if (hc->idle_polls < HTTP_SEND_TIMEOUT)
			return send_more(hc); /* after ERR_MEM with nothing in flight */
		hc->server->st.timeouts++; /* the client stopped reading: what is queued is lost */
		conn_abort(hc);
		return ERR_ABRT;
	} else if ((hc->state == HTTP_READING || hc->state == HTTP_BODY) &&
		   hc->idle_polls >= HTTP_READ_TIMEOUT) {
		hc->server->st.timeouts++;
		conn_close(hc);
	} else if (hc->state == HTTP_DRAINING && hc->idle_polls >= HTTP_DRAIN_TIMEOUT) {
		conn_close(hc); /* the client keeps its side open: lwIP finishes the close alone */
	}
	return ERR_OK;
}

/* lwIP already freed the PCB (reset by the peer, or aborted). */
static void on_err(void *arg, err_t err)
{
	(void)err;
	if (arg != NULL)
		conn_free(arg);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct http_server *s = arg;
	struct http_conn *hc;

	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	hc = s->n_conns < s->max_conns ? calloc(1, sizeof(*hc)) : NULL;
	if (hc == NULL) {
		s->st.refused++;
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	s->st.connections++;
	s->n_conns++;
	hc->server = s;
	hc->pcb = pcb;
	hc->state = HTTP_READING;
	hc->next = s->conns;
	hc->pprev = &s->conns;
	if (s->conns != NULL)
		s->conns->pprev = &hc->next;
	s->conns = hc;
	tcp_arg(pcb, hc);
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	tcp_err(pcb, on_err);
	tcp_poll(pcb, on_poll, HTTP_POLL_INTERVAL);
	tcp_nagle_disable(pcb);
	return ERR_OK;
}

int http_server_start(struct http_server *s, const ip4_addr_t *ip, uint16_t port,
		      unsigned max_conns)
{
	struct tcp_pcb *pcb, *listener;
	ip_addr_t addr;

	memset(s, 0, sizeof(*s));
	s->max_conns = max_conns;
	snprintf(s->host, sizeof(s->host), "%s:%u", ip4addr_ntoa(ip), port);
	ip_addr_copy_from_ip4(addr, *ip);
	pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	if (pcb == NULL)
		return -ENOMEM;
	if (tcp_bind(pcb, &addr, port) != ERR_OK) {
		tcp_close(pcb);
		return -EADDRINUSE;
	}
	listener = tcp_listen_with_backlog(pcb, HTTP_LISTEN_BACKLOG);
	if (listener == NULL) {
		tcp_close(pcb);
		return -ENOMEM;
	}
	s->listener = listener;
	tcp_arg(listener, s);
	tcp_accept(listener, on_accept);
	return 0;
}

void http_server_stop(struct http_server *s)
{
	if (s->listener != NULL) {
		tcp_arg(s->listener, NULL);
		tcp_accept(s->listener, NULL);
		tcp_close(s->listener); /* a listening PCB always closes */
		s->listener = NULL;
	}
	while (s->conns != NULL)
		conn_abort(s->conns);
}
