/* http_server.c - HTTP/1.x GET/HEAD on lwIP's raw TCP API (request in, page out, close) */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lwip/init.h>

#include "http_server.h"

#define HTTP_REQ_MAX 2048       /* request line and headers; longer requests get 400 */
#define HTTP_POLL_INTERVAL 2    /* lwIP coarse ticks (500 ms): poll every second */
#define HTTP_READ_TIMEOUT 5     /* polls a client has to send its request */
#define HTTP_SEND_TIMEOUT 20    /* polls the response may take to be acknowledged */
#define HTTP_LISTEN_BACKLOG 64

enum http_state {
	HTTP_READING, /* waiting for the end of the request headers */
	HTTP_SENDING, /* response written, waiting for its acknowledgement */
	HTTP_CLOSING, /* tcp_close() failed for lack of memory: retried from poll */
};

struct http_conn {
	struct http_server *server;
	struct tcp_pcb *pcb;
	struct http_conn *next, **pprev; /* in server->conns */
	enum http_state state;
	unsigned idle_polls;
	uint32_t unacked; /* response bytes not yet acknowledged */
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

/* Is the request's header block complete? */
static bool request_complete(const struct http_conn *hc)
{
	return memmem(hc->req, hc->len, "\r\n\r\n", 4) != NULL ||
	       memmem(hc->req, hc->len, "\n\n", 2) != NULL;
}

/* Split the request line in place: METHOD SP TARGET SP HTTP/1.x. @return 0 or -EINVAL. */
static int parse_request_line(struct http_conn *hc, char **method, char **target, int *minor)
{
	char *eol = memchr(hc->req, '\n', hc->len), *sp1, *sp2;

	if (eol == NULL)
		return -EINVAL;
	*eol = '\0';
	if (eol > hc->req && eol[-1] == '\r')
		eol[-1] = '\0';
	sp1 = strchr(hc->req, ' ');
	if (sp1 == NULL)
		return -EINVAL;
	*sp1 = '\0';
	sp2 = strchr(sp1 + 1, ' ');
	if (sp2 == NULL)
		return -EINVAL;
	*sp2 = '\0';
	if (strcmp(sp2 + 1, "HTTP/1.0") == 0)
		*minor = 0;
	else if (strcmp(sp2 + 1, "HTTP/1.1") == 0)
		*minor = 1;
	else
		return -EINVAL;
	*method = hc->req;
	*target = sp1 + 1;
	return (*method)[0] != '\0' && (*target)[0] == '/' ? 0 : -EINVAL;
}

/* Build the response for the buffered request into out. @return its length. */
static int build_response(struct http_conn *hc, char *out, size_t size)
{
	struct http_server *s = hc->server;
	const char *status = "400 Bad Request", *version = "HTTP/1.0";
	char body[160], *method, *target, *query;
	bool head = false;
	int minor, blen;

	s->st.requests++;
	if (parse_request_line(hc, &method, &target, &minor) != 0) {
		s->st.bad++;
		blen = snprintf(body, sizeof(body), "bad request\n");
		goto out;
	}
	version = minor ? "HTTP/1.1" : "HTTP/1.0";
	query = strchr(target, '?');
	if (query != NULL)
		*query = '\0';
	head = strcmp(method, "HEAD") == 0;
	if (!head && strcmp(method, "GET") != 0) {
		s->st.bad++;
		status = "501 Not Implemented";
		blen = snprintf(body, sizeof(body), "only GET and HEAD\n");
	} else if (strcmp(target, "/") == 0 || strcmp(target, "/index.html") == 0) {
		s->st.ok++;
		status = "200 OK";
		blen = snprintf(body, sizeof(body), "portmux-httpd (lwIP %s) on %s, request %llu\n",
				LWIP_VERSION_STRING, s->host, (unsigned long long)s->st.requests);
	} else {
		s->st.not_found++;
		status = "404 Not Found";
		blen = snprintf(body, sizeof(body), "not found\n");
	}
out:
	return snprintf(out, size,
			"%s %s\r\nServer: portmux-httpd\r\nContent-Type: text/plain\r\n"
			"Content-Length: %d\r\nConnection: close\r\n\r\n%s",
			version, status, blen, head ? "" : body);
}

/* The request is complete (or too long): write the response, wait for its ACK. */
static err_t respond(struct http_conn *hc)
{
	char out[512];
	int len = build_response(hc, out, sizeof(out));

	if (len < 0 || (size_t)len >= sizeof(out) ||
	    tcp_write(hc->pcb, out, (u16_t)len, TCP_WRITE_FLAG_COPY) != ERR_OK) {
		conn_abort(hc);
		return ERR_ABRT;
	}
	hc->state = HTTP_SENDING;
	hc->unacked = (uint32_t)len;
	tcp_output(hc->pcb);
	return ERR_OK;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct http_conn *hc = arg;

	if (p == NULL) { /* the peer closed its side */
		if (hc->state == HTTP_READING)
			conn_close(hc);
		return ERR_OK;
	}
	tcp_recved(pcb, p->tot_len);
	if (err != ERR_OK || hc->state != HTTP_READING) { /* data after the request: ignored */
		pbuf_free(p);
		return ERR_OK;
	}
	hc->idle_polls = 0;
	if (p->tot_len > sizeof(hc->req) - 1 - hc->len) {
		pbuf_free(p); /* too long: answered 400 (the line parser finds no valid line) */
		hc->len = 0;
		return respond(hc);
	}
	hc->len += pbuf_copy_partial(p, hc->req + hc->len, p->tot_len, 0);
	pbuf_free(p);
	return request_complete(hc) ? respond(hc) : ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct http_conn *hc = arg;

	(void)pcb;
	hc->idle_polls = 0;
	hc->unacked = len >= hc->unacked ? 0 : hc->unacked - len;
	if (hc->state == HTTP_SENDING && hc->unacked == 0)
		conn_close(hc);
	return ERR_OK;
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
	} else if (hc->idle_polls >= HTTP_SEND_TIMEOUT) {
		hc->server->st.timeouts++;
		conn_abort(hc);
		return ERR_ABRT;
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
