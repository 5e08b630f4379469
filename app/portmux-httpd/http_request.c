/* http_request.c - the head of an HTTP/1.x request (bytes in; method, path, body length out) */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "http_request.h"

#define HTTP_LINE_MAX 512 /* longest request line accepted */

/* Split one request line (NUL-terminated, no CR/LF) into *req. @return 1 or -EINVAL. */
static int parse_line(char *line, struct http_request *req)
{
	char *target, *version;
	size_t path_len;

	target = strchr(line, ' ');
	if (target == NULL || target == line)
		return -EINVAL;
	*target++ = '\0';
	version = strchr(target, ' ');
	if (version == NULL || target[0] != '/')
		return -EINVAL;
	*version++ = '\0';
	if (strcmp(version, "HTTP/1.0") == 0)
		req->minor = 0;
	else if (strcmp(version, "HTTP/1.1") == 0)
		req->minor = 1;
	else
		return -EINVAL;
	for (const char *c = line; *c != '\0'; c++)
		if (*c < 'A' || *c > 'Z')
			return -EINVAL; /* methods are tokens; every standard one is upper case */
	if (strcmp(line, "GET") == 0)
		req->method = HTTP_METHOD_GET;
	else if (strcmp(line, "HEAD") == 0)
		req->method = HTTP_METHOD_HEAD;
	else if (strcmp(line, "POST") == 0)
		req->method = HTTP_METHOD_POST;
	else
		req->method = HTTP_METHOD_OTHER;
	path_len = strcspn(target, "?#");
	if (path_len >= sizeof(req->path))
		return -EINVAL;
	memcpy(req->path, target, path_len);
	req->path[path_len] = '\0';
	return 1;
}

/* The length of the head: through the LF of the first empty line after the request line
 * (CRLF or bare LF). @return it, or 0 while the head is not complete. */
static size_t head_length(const char *buf, size_t len)
{
	const char *nl = memchr(buf, '\n', len);

	while (nl != NULL) {
		size_t off = (size_t)(nl - buf) + 1; /* the next line starts here */

		nl = memchr(buf + off, '\n', len - off);
		if (nl == NULL)
			return 0;
		if (nl == buf + off || (nl == buf + off + 1 && buf[off] == '\r'))
			return (size_t)(nl - buf) + 1;
	}
	return 0;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

/* Content-Length = 1*DIGIT; a value over 64 bits saturates to HTTP_LENGTH_HUGE (RFC 9110 8.6:
 * large numerals must not overflow). Two fields must agree. @return 0 or -EINVAL. */
static int parse_length(const char *v, size_t n, struct http_request *req)
{
	uint64_t x = 0;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(v[i] - '0');

		if (d > 9)
			return -EINVAL;
		x = x > (HTTP_LENGTH_HUGE - d) / 10 ? HTTP_LENGTH_HUGE : x * 10 + d;
	}
	if (req->has_length && req->content_length != x)
		return -EINVAL;
	req->has_length = true;
	req->content_length = x;
	return 0;
}

/* One header line "name: value" (no CR/LF). @return 0 or -EINVAL. */
static int parse_field(const char *line, size_t n, struct http_request *req)
{
	const char *colon = memchr(line, ':', n), *v, *end = line + n;
	size_t name_len;

	if (colon == NULL || colon == line || is_ows(line[0]))
		return -EINVAL; /* no name, or an obsolete folded line */
	name_len = (size_t)(colon - line);
	for (size_t i = 0; i < name_len; i++)
		if (is_ows(line[i]))
			return -EINVAL; /* RFC 9112 5.1: no white space before the colon */
	for (v = colon + 1; v < end && is_ows(*v); v++)
		;
	while (end > v && is_ows(end[-1]))
		end--;
	if (name_is(line, name_len, "Content-Length"))
		return parse_length(v, (size_t)(end - v), req);
	if (name_is(line, name_len, "Transfer-Encoding"))
		req->has_transfer_encoding = true;
	else if (name_is(line, name_len, "Expect"))
		req->expect_continue = name_is(v, (size_t)(end - v), "100-continue");
	return 0;
}

int http_request_parse(const char *buf, size_t len, size_t max, struct http_request *req)
{
	size_t head = head_length(buf, len), line_len, pos;
	char line[HTTP_LINE_MAX];
	const char *eol;
	int ret;

	if (head == 0)
		return len >= max ? -E2BIG : 0;
	if (memchr(buf, '\0', head) != NULL)
		return -EINVAL;
	*req = (struct http_request){.head_len = head};
	eol = memchr(buf, '\n', head); /* there is one: the head is complete */
	line_len = (size_t)(eol - buf);
	if (line_len > 0 && buf[line_len - 1] == '\r')
		line_len--;
	if (line_len >= sizeof(line))
		return -EINVAL;
	memcpy(line, buf, line_len);
	line[line_len] = '\0';
	ret = parse_line(line, req);
	/* the header lines, up to the empty one that ends the head */
	for (pos = (size_t)(eol - buf) + 1; ret == 1; pos = (size_t)(eol - buf) + 1) {
		eol = memchr(buf + pos, '\n', head - pos);
		line_len = (size_t)(eol - buf) - pos;
		if (line_len > 0 && buf[pos + line_len - 1] == '\r')
			line_len--;
		if (line_len == 0)
			break;
		if (parse_field(buf + pos, line_len, req) != 0)
			ret = -EINVAL;
	}
	return ret;
}

int http_request_bytes_path(const char *path, uint64_t max, uint64_t *n)
{
	static const char prefix[] = "/bytes/";
	const char *d = path + sizeof(prefix) - 1;
	uint64_t v = 0;

	if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return 0;
	if (*d == '\0' || (d[0] == '0' && d[1] != '\0'))
		return -EINVAL;
	for (const char *c = d; *c != '\0'; c++)
		if (*c < '0' || *c > '9')
			return -EINVAL;
	for (; *d != '\0'; d++) {
		unsigned digit = (unsigned)(*d - '0');

		if (v > (max - digit) / 10 || v * 10 + digit > max)
			return -ERANGE;
		v = v * 10 + digit;
	}
	*n = v;
	return 1;
}
