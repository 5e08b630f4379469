/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * http_request.h - parse the head of an HTTP/1.x request (pure: no I/O, no allocation).
 */
#ifndef HTTP_REQUEST_H
#define HTTP_REQUEST_H

#include <stddef.h>

#define HTTP_PATH_MAX 256 /**< longest path kept (with its NUL); longer targets are invalid */

enum http_method {
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_OTHER, /**< a syntactically valid method the server does not implement */
};

/** The parts of a request the server uses. */
struct http_request {
	enum http_method method;
	int minor;                /**< 0 for HTTP/1.0, 1 for HTTP/1.1 */
	char path[HTTP_PATH_MAX]; /**< the target without its query or fragment */
};

/**
 * Parse the request line once the header block is complete (ends with an empty line, CRLF or
 * bare LF). Header fields are not interpreted. Thread-safe (pure); reads buf[0 .. len-1] only.
 * @param max  the caller's buffer size: a header block not complete within it is too long.
 * @return 1 (parsed, *req set), 0 (incomplete: wait for more bytes), -E2BIG (len >= max and
 *         still incomplete), -EINVAL (not "METHOD SP /target SP HTTP/1.0|1.1", a NUL byte in
 *         the request line, or a target of HTTP_PATH_MAX bytes or more).
 */
int http_request_parse(const char *buf, size_t len, size_t max, struct http_request *req);

#endif
