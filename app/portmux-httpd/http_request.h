/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * http_request.h - parse the head of an HTTP/1.x request (pure: no I/O, no allocation).
 */
#ifndef HTTP_REQUEST_H
#define HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_PATH_MAX 256 /**< longest path kept (with its NUL); longer targets are invalid */

/** A Content-Length too large for 64 bits: saturated to this (the server answers 413). */
#define HTTP_LENGTH_HUGE UINT64_MAX

enum http_method {
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_POST,
	HTTP_METHOD_OTHER, /**< a syntactically valid method the server does not implement */
};

/** The parts of a request the server uses. */
struct http_request {
	enum http_method method;
	int minor;                  /**< 0 for HTTP/1.0, 1 for HTTP/1.1 */
	char path[HTTP_PATH_MAX];   /**< the target without its query or fragment */
	size_t head_len;            /**< bytes of the request line and headers, empty line included:
				       the body (if any) starts at buf[head_len] */
	bool has_length;            /**< a Content-Length field was present */
	uint64_t content_length;    /**< its value (HTTP_LENGTH_HUGE when over 64 bits) */
	bool has_transfer_encoding; /**< a Transfer-Encoding field was present (not supported) */
	bool expect_continue;       /**< "Expect: 100-continue" */
};

/**
 * Parse the request line and the header fields once the header block is complete (ends with an
 * empty line, CRLF or bare LF). Of the fields, Content-Length, Transfer-Encoding and Expect are
 * interpreted (names case-insensitive); the others are only checked to be "name: value".
 * Thread-safe (pure); reads buf[0 .. len-1] only.
 * @param max  the caller's buffer size: a header block not complete within it is too long.
 * @return 1 (parsed, *req set), 0 (incomplete: wait for more bytes), -E2BIG (len >= max and
 *         still incomplete), -EINVAL (not "METHOD SP /target SP HTTP/1.0|1.1", a NUL byte in
 *         the head, a target of HTTP_PATH_MAX bytes or more, a header line without a colon
 *         or with white space before it, a folded line, or a Content-Length that is not
 *         1*DIGIT or differs between two fields).
 */
int http_request_parse(const char *buf, size_t len, size_t max, struct http_request *req);

/**
 * The count of a "/bytes/N" path: N in decimal digits, at most @p max.
 * @return 1 (*n set), 0 (not a /bytes/ path), -EINVAL (N empty, not all digits, or with a
 *         leading zero), -ERANGE (N > max, overflow included).
 */
int http_request_bytes_path(const char *path, uint64_t max, uint64_t *n);

#endif
