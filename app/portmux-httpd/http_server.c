/* http_server.c - HTTP/1.x GET/HEAD on lwIP's raw TCP API (request in, page out, close) */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lwip/init.h>

#include "http_request.h"
#include "http_server.h"

#define HTTP_REQ_MAX 2048       /* request line and headers; longer requests get 400 */
#define HTTP_POLL_INTERVAL 2    /* lwIP coarse ticks (500 ms): poll every second */
#define HTTP_READ_TIMEOUT 10    /* polls a client has to send its request */
#define HTTP_DRAIN_TIMEOUT 10   /* polls the client has to close after the response */
#define HTTP_LISTEN_BACKLOG 64

enum http_state {
	HTTP_READING, /* waiting for the end of the request headers */
	HTTP_DRAINING, /* response and FIN sent: reading (and dropping) until the client's FIN */
	HTTP_CLOSING,  /* tcp_close() failed for lack of memory: retried from poll */
};

struct http_conn {
	struct http_server *server;
	struct tcp_pcb *pcb;
	struct http_conn *next, **pprev; /* in server->conns */
	enum http_state state;
	unsigned idle_polls;
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

/* Build the response to a parsed request (ret > 0) or to a bad one into out. @return its
 * length as snprintf() does. */
static int build_response(struct http_server *s, int ret, const struct http_request *req,
			  char *out, size_t size)
{
	const char *status, *version = ret > 0 && req->minor ? "HTTP/1.1" : "HTTP/1.0";
	bool head = ret > 0 && req->method == HTTP_METHOD_HEAD;
	char body[160];
	int blen;

	s->st.requests++;
	if (ret <= 0) {
		s->st.bad++;
		status = "400 Bad Request";
		blen = snprintf(body, sizeof(body), "bad request\n");
	} else if (req->method == HTTP_METHOD_OTHER) {
		s->st.bad++;
		status = "501 Not Implemented";
		blen = snprintf(body, sizeof(body), "only GET and HEAD\n");
	} else if (strcmp(req->path, "/") == 0 || strcmp(req->path, "/index.html") == 0) {
		s->st.ok++;
		status = "200 OK";
		blen = snprintf(body, sizeof(body), "portmux-httpd (lwIP %s) on %s, request %llu\n",
				LWIP_VERSION_STRING, s->host, (unsigned long long)s->st.requests);
	} else {
		s->st.not_found++;
		status = "404 Not Found";
		blen = snprintf(body, sizeof(body), "not found\n");
	}
	return snprintf(out, size,
			"%s %s\r\nServer: portmux-httpd\r\nContent-Type: text/plain\r\n"
			"Content-Length: %d\r\nConnection: close\r\n\r\n%s",
			version, status, blen, head ? "" : body);
}

/* The request is complete, bad or too long (ret from http_request_parse): write the response
 * and close our sending side at once (RFC 7230 6.6: the server that sent "Connection: close"
 * closes first, in two stages), then read until the client's FIN so that late request bytes do
 * not make lwIP reset the connection before the client has read the response. */
static err_t respond(struct http_conn *hc, int ret, const struct http_request *req)
{
	char out[512];
	int len = build_response(hc->server, ret, req, out, sizeof(out));

	if (len < 0 || (size_t)len >= sizeof(out) ||
	    tcp_write(hc->pcb, out, (u16_t)len, TCP_WRITE_FLAG_COPY) != ERR_OK) {
		conn_abort(hc);
		return ERR_ABRT;
	}
	hc->state = HTTP_DRAINING;
	hc->idle_polls = 0;
	if (tcp_shutdown(hc->pcb, 0, 1) != ERR_OK)
		conn_close(hc); /* no memory for the FIN: close now, retried from poll */
	else
		tcp_output(hc->pcb);
	return ERR_OK;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct http_conn *hc = arg;
	struct http_request req;
	u16_t room;
	int ret;

	if (p == NULL) { /* the client closed its side: nothing more to read or answer */
		conn_close(hc);
		return ERR_OK;
	}
	tcp_recved(pcb, p->tot_len);
	if (err != ERR_OK || hc->state != HTTP_READING) { /* data after the request: dropped */
		pbuf_free(p);
		return ERR_OK;
	}
	hc->idle_polls = 0;
	room = (u16_t)(sizeof(hc->req) - hc->len); /* what does not fit: the request is too long */
	if (room > p->tot_len)
		room = p->tot_len;
	hc->len += pbuf_copy_partial(p, hc->req + hc->len, room, 0);
	pbuf_free(p);
	ret = http_request_parse(hc->req, hc->len, sizeof(hc->req), &req);
	return ret == 0 ? ERR_OK : respond(hc, ret, &req);
}

static err_t on_poll(void *arg, struct tcp_pcb *pcb)
{
	struct http_conn *hc = arg;

	(void)pcb;
	hc->idle_polls++;
	if (hc->state == HTTP_CLOSING) {
		conn_close(hc);
	} else if (hc->state == HTTP_READING && hc->idle_polls >= HTTP_READ_TIMEOUT) {
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
