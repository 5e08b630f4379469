/* ctl_rate.c - control-plane benchmark: listen/release updates per second through the socket */
/*
 * One client session (hello, no EAL: rules only) sends "listen" requests pipelined WINDOW at a
 * time, reads the rule ids from the replies, releases them the same way, and repeats for
 * DURATION seconds. Before that it can fill the table with BG listen rules that stay for the
 * run (the cost of a request may grow with the rules held). A second, plain connection takes
 * "stats" before and after, so the run also shows what the dataplane did meanwhile: frames
 * received and delivered, and drops by reason (expected: none).
 * The result is one JSON line starting with "RESULT ".
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "pmx_opt.h"

#define MAX_WINDOW 1024
#define CHURN_PORT 2000  /* churned rules: UDP 2000.. (the sink's ports are 10000..) */
#define BG_PORT 30000    /* background rules: UDP 30000.. */
#define MAX_LAT_SAMPLES (1u << 22)
#define BG_SECONDS_MAX 30 /* background rules not added by then are left out (bg_rules says) */

struct conn {
	int fd;
	char buf[1 << 16];
	size_t len; /* bytes in buf */
	size_t off; /* start of the next line */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	c->len = c->off = 0;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		int ret = -errno;

		close(c->fd);
		return ret;
	}
	return 0;
}

static int send_all(struct conn *c, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = send(c->fd, data, len, MSG_NOSIGNAL);

		if (w <= 0)
			return -EIO;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The next reply line (NUL-terminated inside c->buf), or NULL when the connection ends. */
static char *read_line(struct conn *c)
{
	for (;;) {
		char *nl = memchr(c->buf + c->off, '\n', c->len - c->off);

		if (nl != NULL) {
			char *line = c->buf + c->off;

			*nl = '\0';
			c->off = (size_t)(nl - c->buf) + 1;
			return line;
		}
		/* keep the partial line, make room, read more */
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
		if (c->len == sizeof(c->buf))
			return NULL;
		ssize_t r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);

		if (r <= 0)
			return NULL;
		c->len += (size_t)r;
	}
}

static json_t *request(struct conn *c, const char *line)
{
	json_t *reply, *res = NULL;
	char *text;

	if (send_all(c, line, strlen(line)) != 0 || send_all(c, "\n", 1) != 0)
		return NULL;
	text = read_line(c);
	if (text == NULL)
		return NULL;
	reply = json_loads(text, 0, NULL);
	if (json_is_true(json_object_get(reply, "ok")))
		res = json_incref(json_object_get(reply, "result"));
	else
		fprintf(stderr, "pmx-ctl-rate: %s -> %s\n", line, text);
	json_decref(reply);
	return res;
}

/* Requests that failed, by error code (a rule update that did not happen is counted, not fatal). */
struct failures {
	unsigned n;
	char code[8][16];
	uint64_t count[8];
};

static void count_failure(struct failures *f, const char *line)
{
	const char *p = strstr(line, "\"code\":\"");
	char code[16] = "?";
	unsigned i;

	if (p != NULL)
		sscanf(p + 8, "%15[A-Z0-9]", code);
	for (i = 0; i < f->n && strcmp(f->code[i], code) != 0; i++)
		;
	if (i == f->n && f->n < 8)
		snprintf(f->code[f->n++], sizeof(f->code[0]), "%s", code);
	if (i < 8)
		f->count[i]++;
}

/*
 * Send n requests (one per line in out[0..len)), then read n replies: rule ids into ids[]
 * (UINT32_MAX for a failed request). Returns the number that succeeded, or -EIO.
 */
static int pipelined(struct conn *c, const char *out, size_t len, unsigned n, uint32_t *ids,
		     double *lat, unsigned *n_lat, double t_sent, struct failures *fail)
{
	int ok = 0;

	if (send_all(c, out, len) != 0)
		return -EIO;
	for (unsigned i = 0; i < n; i++) {
		char *line = read_line(c), *p;

		if (line == NULL)
			return -EIO;
		if (*n_lat < MAX_LAT_SAMPLES)
			lat[(*n_lat)++] = now_s() - t_sent;
		if (strstr(line, "\"ok\":true") == NULL) {
			count_failure(fail, line);
			if (ids != NULL)
				ids[i] = UINT32_MAX;
			continue;
		}
		ok++;
		if (ids != NULL) {
			p = strstr(line, "\"rule_id\":");
			if (p == NULL)
				return -EIO;
			ids[i] = (uint32_t)strtoul(p + 10, NULL, 10);
		}
	}
	return ok;
}

static size_t fmt_listens(char *out, size_t cap, unsigned first_port, unsigned n, unsigned id0)
{
	size_t len = 0;

	for (unsigned i = 0; i < n && len + 128 < cap; i++)
		len += (size_t)snprintf(out + len, cap - len,
					"{\"cmd\":\"listen\",\"id\":%u,\"proto\":\"udp\","
					"\"port\":%u}\n",
					id0 + i, first_port + i);
	return len;
}

/* Release requests for the ids that were granted; *n_out says how many. */
static size_t fmt_releases(char *out, size_t cap, const uint32_t *ids, unsigned n, unsigned id0,
			   unsigned *n_out)
{
	size_t len = 0;

	*n_out = 0;
	for (unsigned i = 0; i < n && len + 128 < cap; i++) {
		if (ids[i] == UINT32_MAX)
			continue;
		len += (size_t)snprintf(out + len, cap - len,
					"{\"cmd\":\"release\",\"id\":%u,\"rule_id\":%u}\n", id0 + i,
					ids[i]);
		(*n_out)++;
	}
	return len;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static json_int_t port_counter(json_t *stats, const char *key)
{
	return json_integer_value(
		json_object_get(json_array_get(json_object_get(stats, "ports"), 0), key));
}

/* One run: the client session, the stats connection, and what was measured. */
struct run {
	struct conn cl;       /* the client session (hello) that adds and releases */
	struct conn st;       /* a plain connection for "stats" */
	unsigned window;      /* requests in flight */
	unsigned next_id;     /* request ids */
	double *lat;          /* reply latencies (s), MAX_LAT_SAMPLES */
	unsigned n_lat;
	unsigned bg;          /* background rules held */
	double bg_s;          /* seconds it took to add them */
	struct failures bg_fail, fail;
	uint64_t updates;     /* successful listen + release in the churn phase */
	double seconds;       /* length of the churn phase */
	char out[MAX_WINDOW * 128];
	uint32_t ids[MAX_WINDOW];
};

/* Hold `want` listen rules (bounded to BG_SECONDS_MAX); r->bg says how many were added. */
static int add_background(struct run *r, unsigned want)
{
	uint32_t *ids = calloc(want + 1, sizeof(*ids));
	double t0 = now_s();
	unsigned done = 0;

	if (ids == NULL)
		return -ENOMEM;
	while (done < want && now_s() - t0 < BG_SECONDS_MAX) {
		unsigned n = want - done < r->window ? want - done : r->window;
		size_t len = fmt_listens(r->out, sizeof(r->out), BG_PORT + done, n, r->next_id);

		if (pipelined(&r->cl, r->out, len, n, ids + done, r->lat, &r->n_lat, now_s(),
			      &r->bg_fail) < 0) {
			free(ids);
			return -EIO;
		}
		r->next_id += n;
		done += n;
	}
	r->bg_s = now_s() - t0;
	if (done < want)
		fprintf(stderr, "pmx-ctl-rate: only %u of %u background rules in %d s\n", done,
			want, BG_SECONDS_MAX);
	r->bg = done;
	r->n_lat = 0; /* latencies of the churn phase only */
	free(ids);    /* the rules go with the session */
	return 0;
}

/* Listen on WINDOW ports, release them, again, for `duration` seconds. */
static int churn(struct run *r, double duration)
{
	double t0 = now_s();

	do {
		size_t len = fmt_listens(r->out, sizeof(r->out), CHURN_PORT, r->window, r->next_id);
		unsigned n_rel;
		int added, released;

		added = pipelined(&r->cl, r->out, len, r->window, r->ids, r->lat, &r->n_lat,
				  now_s(), &r->fail);
		if (added < 0)
			return -EIO;
		r->next_id += r->window;
		len = fmt_releases(r->out, sizeof(r->out), r->ids, r->window, r->next_id, &n_rel);
		released = pipelined(&r->cl, r->out, len, n_rel, NULL, r->lat, &r->n_lat, now_s(),
				     &r->fail);
		if (released < 0)
			return -EIO;
		r->next_id += r->window;
		r->updates += (unsigned)(added + released);
		r->seconds = now_s() - t0;
	} while (r->seconds < duration);
	return 0;
}

/* b - a for every counter of the "drops" objects; the sum into *total. */
static json_t *drops_delta(json_t *s0, json_t *s1, json_int_t *total)
{
	json_t *out = json_object(), *d0 = json_object_get(s0, "drops"), *v;
	const char *key;

	*total = 0;
	json_object_foreach(json_object_get(s1, "drops"), key, v) {
		json_int_t d = json_integer_value(v) - json_integer_value(json_object_get(d0, key));

		json_object_set_new(out, key, json_integer(d));
		*total += d;
	}
	return out;
}

static json_t *failures_json(const struct failures *f, json_int_t *total)
{
	json_t *out = json_object();

	*total = 0;
	for (unsigned i = 0; i < f->n; i++) {
		json_object_set_new(out, f->code[i], json_integer((json_int_t)f->count[i]));
		*total += (json_int_t)f->count[i];
	}
	return out;
}

/* The RESULT line: the churn's rate and latencies, and the dataplane between s0 and s1. */
static void report(struct run *r, json_t *s0, json_t *s1)
{
	json_int_t drops_total, n_failed, bg_failed;
	json_t *drops = drops_delta(s0, s1, &drops_total);
	json_t *failed = failures_json(&r->fail, &n_failed);
	json_t *bg_failures = failures_json(&r->bg_fail, &bg_failed);
	json_int_t to_clients = port_counter(s1, "to_clients") - port_counter(s0, "to_clients");
	double secs = r->seconds > 0 ? r->seconds : 1e-9;
	const double *lat = r->lat;
	unsigned n = r->n_lat;
	json_t *res;
	char *text;

	json_decref(bg_failures);
	qsort(r->lat, n, sizeof(*r->lat), cmp_double);
	res = json_pack("{s:i, s:I, s:f, s:f, s:i, s:f, s:I, s:I, s:o, s:f, s:f, s:f, s:I, s:o,"
			" s:I, s:I, s:f}",
			"bg_rules", r->bg, "bg_failed", bg_failed, "bg_add_per_s",
			r->bg_s > 0 ? r->bg / r->bg_s : 0.0, "seconds", r->seconds, "window",
			r->window, "updates_per_s", r->updates / secs, "updates",
			(json_int_t)r->updates, "failed", n_failed, "failed_by_code", failed,
			"p50_us", n ? lat[n / 2] * 1e6 : 0.0, "p99_us",
			n ? lat[(size_t)(n * 0.99)] * 1e6 : 0.0, "max_us",
			n ? lat[n - 1] * 1e6 : 0.0, "drops_total", drops_total, "drops", drops,
			"rx", port_counter(s1, "rx") - port_counter(s0, "rx"), "to_clients",
			to_clients, "delivered_mpps", to_clients / secs / 1e6);
	text = json_dumps(res, JSON_COMPACT | JSON_REAL_PRECISION(8));
	printf("RESULT %s\n", text ? text : "{}");
	free(text);
	json_decref(res);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pmx-ctl-rate [-s SOCKET] [-b BG_RULES] [-d SECONDS] [-W WINDOW]\n"
		"Fill the table with BG_RULES listen rules (UDP %u..), then for SECONDS (5) add "
		"and\n"
		"release WINDOW (64) rules at a time on UDP %u.. pipelined, and print updates/s,\n"
		"reply latency and the dataplane's counters over the run.\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH      portmuxd's control socket (default $PORTMUX_SOCKET)\n"
		"  -b, --background N     background rules, 0..%u (0)\n"
		"  -d, --duration SECONDS length of the run, above 0 and at most 30 (5)\n"
		"  -W, --window N         rules in flight, 1..%u (64)\n"
		"  -h, --help             print this help and exit\n"
		"  -V, --version          print the version and exit\n",
		BG_PORT, CHURN_PORT, 65535 - BG_PORT, MAX_WINDOW);
}

/* A bad value for option opt, on stderr. Returns the exit status (2). */
static int bad_value(int opt, const char *value)
{
	fprintf(stderr, "pmx-ctl-rate: -%c: bad value \"%s\"\nTry 'pmx-ctl-rate --help'.\n", opt,
		value);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"socket", required_argument, NULL, 's'},
						 {"background", required_argument, NULL, 'b'},
						 {"duration", required_argument, NULL, 'd'},
						 {"window", required_argument, NULL, 'W'},
						 {"help", no_argument, NULL, 'h'},
						 {"version", no_argument, NULL, 'V'},
						 {NULL, 0, NULL, 0}};
	static struct run r = {.window = 64, .next_id = 1};
	const char *path = getenv("PORTMUX_SOCKET");
	unsigned bg = 0;
	double duration = 5;
	json_t *s0 = NULL, *s1 = NULL, *hello;
	int opt, ret = 1;

	while ((opt = getopt_long(argc, argv, "s:b:d:W:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': path = optarg; break;
		case 'b':
			if (pmx_opt_uint(optarg, 0, 65535 - BG_PORT, &bg) != 0)
				return bad_value(opt, optarg);
			break;
		case 'd':
			if (pmx_opt_double(optarg, 0, 30, &duration) != 0 || duration == 0)
				return bad_value(opt, optarg);
			break;
		case 'W':
			if (pmx_opt_uint(optarg, 1, MAX_WINDOW, &r.window) != 0)
				return bad_value(opt, optarg);
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("pmx-ctl-rate %s\n", PMX_VERSION); return 0;
		default: fprintf(stderr, "Try 'pmx-ctl-rate --help'.\n"); return 2;
		}
	}
	if (path == NULL || optind != argc) {
		fprintf(stderr, "pmx-ctl-rate: %s\nTry 'pmx-ctl-rate --help'.\n",
			path == NULL ? "no socket: -s PATH or $PORTMUX_SOCKET"
				     : "unexpected argument");
		return 2;
	}
	r.lat = calloc(MAX_LAT_SAMPLES, sizeof(*r.lat));
	if (r.lat == NULL)
		return 1;
	if (conn_open(&r.cl, path) != 0)
		goto out_free;
	if (conn_open(&r.st, path) != 0)
		goto out_close_cl;
	hello = request(&r.cl, "{\"cmd\":\"hello\",\"id\":0,\"name\":\"pmx-ctl-rate\"}");
	if (hello == NULL)
		goto out_close_st;
	json_decref(hello);

	if (add_background(&r, bg) != 0)
		goto out_close_st;
	s0 = request(&r.st, "{\"cmd\":\"stats\",\"id\":1}");
	if (s0 == NULL || churn(&r, duration) != 0)
		goto out_close_st;
	s1 = request(&r.st, "{\"cmd\":\"stats\",\"id\":2}");
	if (s1 == NULL)
		goto out_close_st;
	report(&r, s0, s1);
	ret = 0;

out_close_st:
	json_decref(s0);
	json_decref(s1);
	close(r.st.fd);
out_close_cl:
	close(r.cl.fd); /* the session's rules go with it */
out_free:
	if (ret != 0)
		fprintf(stderr, "pmx-ctl-rate: failed (socket %s)\n", path);
	free(r.lat);
	return ret;
}
