/* http_request.c - the request line of an HTTP/1.x request (bytes in, method/version/path out) */
#include <errno.h>
#include <string.h>

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
	else
		req->method = HTTP_METHOD_OTHER;
	path_len = strcspn(target, "?#");
	if (path_len >= sizeof(req->path))
		return -EINVAL;
	memcpy(req->path, target, path_len);
	req->path[path_len] = '\0';
	return 1;
}

int http_request_parse(const char *buf, size_t len, size_t max, struct http_request *req)
{
	char line[HTTP_LINE_MAX];
	const char *eol;
	size_t line_len;

	if (memmem(buf, len, "\r\n\r\n", 4) == NULL && memmem(buf, len, "\n\n", 2) == NULL)
		return len >= max ? -E2BIG : 0;
	eol = memchr(buf, '\n', len); /* there is one: the block is complete */
	line_len = (size_t)(eol - buf);
	if (line_len > 0 && buf[line_len - 1] == '\r')
		line_len--;
	if (line_len >= sizeof(line) || memchr(buf, '\0', line_len) != NULL)
		return -EINVAL;
	memcpy(line, buf, line_len);
	line[line_len] = '\0';
	return parse_line(line, req);
}
