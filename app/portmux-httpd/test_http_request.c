/* test_http_request.c - CUnit tests of http_request_parse() and http_request_bytes_path():
 * rejected and incomplete requests first (bad request lines, versions, targets, header lines,
 * Content-Length, NUL bytes, oversize, bad /bytes/N), then accepted ones (methods, HTTP/1.0
 * and 1.1, bare LF, query and fragment stripped, longest path, body length fields). */
#include <errno.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "http_request.h"

#define MAX 2048

struct parse_case {
	const char *name;
	const char *text;
	int ret;
	enum http_method method;
	int minor;
	const char *path;
};

static const struct parse_case bad_cases[] = {
	{"empty", "", 0, 0, 0, NULL},
	{"line not ended", "GET / HTTP/1.1", 0, 0, 0, NULL},
	{"headers not ended", "GET / HTTP/1.1\r\nHost: x\r\n", 0, 0, 0, NULL},
	{"no version (HTTP/0.9)", "GET /\r\n\r\n", -EINVAL, 0, 0, NULL},
	{"HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", -EINVAL, 0, 0, NULL},
	{"lower-case version", "GET / http/1.1\r\n\r\n", -EINVAL, 0, 0, NULL},
	{"version with trailing space", "GET / HTTP/1.1 \r\n\r\n", -EINVAL, 0, 0, NULL},
	{"no method", " / HTTP/1.1\r\n\r\n", -EINVAL, 0, 0, NULL},
	{"two spaces", "GET  / HTTP/1.1\r\n\r\n", -EINVAL, 0, 0, NULL},
	{"relative target", "GET index.html HTTP/1.1\r\n\r\n", -EINVAL, 0, 0, NULL},
	{"absolute-form target", "GET http://h/ HTTP/1.1\r\n\r\n", -EINVAL, 0, 0, NULL},
	{"lower-case method", "get / HTTP/1.1\r\n\r\n", -EINVAL, 0, 0, NULL},
	{"empty line only", "\r\n\r\n", -EINVAL, 0, 0, NULL},
	{"header line without colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", -EINVAL, 0, 0, NULL},
	{"header with empty name", "GET / HTTP/1.1\r\n: x\r\n\r\n", -EINVAL, 0, 0, NULL},
	{"space before the colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", -EINVAL, 0, 0, NULL},
	{"folded header line", "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", -EINVAL, 0, 0, NULL},
	{"Content-Length empty", "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", -EINVAL, 0, 0, NULL},
	{"Content-Length negative", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", -EINVAL, 0, 0,
	 NULL},
	{"Content-Length signed", "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", -EINVAL, 0, 0,
	 NULL},
	{"Content-Length hex", "POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", -EINVAL, 0, 0,
	 NULL},
	{"Content-Length with a unit", "POST / HTTP/1.1\r\nContent-Length: 5 B\r\n\r\n", -EINVAL, 0,
	 0, NULL},
	{"Content-Length list", "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", -EINVAL, 0, 0,
	 NULL},
	{"two Content-Lengths that differ",
	 "POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\n", -EINVAL, 0, 0, NULL},
	{"bad header after a good one", "GET / HTTP/1.1\r\nHost: a\r\nbad\r\n\r\n", -EINVAL, 0, 0,
	 NULL},
};

static const struct parse_case good_cases[] = {
	{"GET 1.1", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1, HTTP_METHOD_GET, 1, "/"},
	{"GET 1.0", "GET /index.html HTTP/1.0\r\n\r\n", 1, HTTP_METHOD_GET, 0, "/index.html"},
	{"HEAD", "HEAD /x HTTP/1.1\r\n\r\n", 1, HTTP_METHOD_HEAD, 1, "/x"},
	{"POST", "POST /f HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 1, HTTP_METHOD_POST, 1, "/f"},
	{"PUT is other", "PUT /f HTTP/1.1\r\n\r\n", 1, HTTP_METHOD_OTHER, 1, "/f"},
	{"bare LF", "GET /lf HTTP/1.0\n\n", 1, HTTP_METHOD_GET, 0, "/lf"},
	{"query stripped", "GET /a?b=c HTTP/1.1\r\n\r\n", 1, HTTP_METHOD_GET, 1, "/a"},
	{"fragment stripped", "GET /a#top HTTP/1.1\r\n\r\n", 1, HTTP_METHOD_GET, 1, "/a"},
	{"body bytes after the head", "GET / HTTP/1.1\r\n\r\nxyz", 1, HTTP_METHOD_GET, 1, "/"},
};

static void run_cases(const struct parse_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct http_request req;
		int ret = http_request_parse(cases[i].text, strlen(cases[i].text), MAX, &req);

		if (ret != cases[i].ret)
			fprintf(stderr, "case \"%s\": got %d, want %d\n", cases[i].name, ret,
				cases[i].ret);
		CU_ASSERT_EQUAL(ret, cases[i].ret);
		if (ret != 1 || cases[i].ret != 1)
			continue;
		CU_ASSERT_EQUAL(req.method, cases[i].method);
		CU_ASSERT_EQUAL(req.minor, cases[i].minor);
		CU_ASSERT_STRING_EQUAL(req.path, cases[i].path);
	}
}

static void test_bad_requests(void)
{
	run_cases(bad_cases, sizeof(bad_cases) / sizeof(bad_cases[0]));
}

static void test_nul_in_request_line(void)
{
	static const char text[] = "GET /a\0b HTTP/1.1\r\n\r\n";
	struct http_request req;

	CU_ASSERT_EQUAL(http_request_parse(text, sizeof(text) - 1, MAX, &req), -EINVAL);
}

static void test_oversize(void)
{
	static char buf[MAX];
	struct http_request req;

	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET / HTTP/1.1\r\nX: ", 19);
	/* incomplete below the limit: wait; at the limit: too long */
	CU_ASSERT_EQUAL(http_request_parse(buf, MAX - 1, MAX, &req), 0);
	CU_ASSERT_EQUAL(http_request_parse(buf, MAX, MAX, &req), -E2BIG);
}

static void test_path_limits(void)
{
	char text[HTTP_PATH_MAX + 64], path[HTTP_PATH_MAX + 1];
	struct http_request req;

	/* HTTP_PATH_MAX - 1 bytes fit, HTTP_PATH_MAX do not */
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	path[HTTP_PATH_MAX - 1] = '\0';
	snprintf(text, sizeof(text), "GET %s HTTP/1.1\r\n\r\n", path);
	CU_ASSERT_EQUAL(http_request_parse(text, strlen(text), MAX, &req), 1);
	CU_ASSERT_EQUAL(strlen(req.path), HTTP_PATH_MAX - 1);
	path[HTTP_PATH_MAX - 1] = 'p';
	path[HTTP_PATH_MAX] = '\0';
	snprintf(text, sizeof(text), "GET %s HTTP/1.1\r\n\r\n", path);
	CU_ASSERT_EQUAL(http_request_parse(text, strlen(text), MAX, &req), -EINVAL);
}

static void test_good_requests(void)
{
	run_cases(good_cases, sizeof(good_cases) / sizeof(good_cases[0]));
}

/* parse text, which must be accepted, into *req */
static void parse_ok(const char *text, struct http_request *req)
{
	CU_ASSERT_EQUAL_FATAL(http_request_parse(text, strlen(text), MAX, req), 1);
}

static void test_body_fields_bad(void)
{
	struct http_request req;

	/* no Content-Length; Transfer-Encoding noted, not interpreted */
	parse_ok("POST /sha256 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &req);
	CU_ASSERT_FALSE(req.has_length);
	CU_ASSERT_TRUE(req.has_transfer_encoding);
	/* 2^64 and beyond saturate (the server answers 413), they do not wrap */
	parse_ok("POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n", &req);
	CU_ASSERT_TRUE(req.has_length);
	CU_ASSERT_EQUAL(req.content_length, HTTP_LENGTH_HUGE);
	parse_ok("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999999\r\n\r\n", &req);
	CU_ASSERT_EQUAL(req.content_length, HTTP_LENGTH_HUGE);
	/* an Expect other than 100-continue is no request to continue */
	parse_ok("POST / HTTP/1.1\r\nExpect: 100-continue-later\r\n\r\n", &req);
	CU_ASSERT_FALSE(req.expect_continue);
}

static void test_body_fields_good(void)
{
	static const char text[] =
		"POST /sha256 HTTP/1.1\r\nHost: a\r\ncontent-LENGTH: \t 20971520 "
		"\r\nExpect: 100-Continue\r\n\r\nbody";
	struct http_request req;

	parse_ok(text, &req);
	CU_ASSERT_EQUAL(req.method, HTTP_METHOD_POST);
	CU_ASSERT_STRING_EQUAL(req.path, "/sha256");
	CU_ASSERT_TRUE(req.has_length);
	CU_ASSERT_EQUAL(req.content_length, 20971520);
	CU_ASSERT_TRUE(req.expect_continue);
	CU_ASSERT_FALSE(req.has_transfer_encoding);
	CU_ASSERT_EQUAL(req.head_len, strlen(text) - 4); /* the body starts after the head */
	parse_ok("POST / HTTP/1.0\nContent-Length: 7\nContent-Length: 7\n\nxyz", &req);
	CU_ASSERT_EQUAL(req.content_length, 7); /* two that agree */
	CU_ASSERT_EQUAL(req.head_len, 53);
	parse_ok("POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n", &req);
	CU_ASSERT_EQUAL(req.content_length, UINT64_MAX); /* the largest that fits */
	parse_ok("GET / HTTP/1.1\r\n\r\n", &req);
	CU_ASSERT_FALSE(req.has_length);
	CU_ASSERT_FALSE(req.expect_continue);
}

static void test_bytes_path_bad(void)
{
	static const struct {
		const char *path;
		int ret;
	} cases[] = {
		{"/bytes/", -EINVAL},
		{"/bytes/x", -EINVAL},
		{"/bytes/12a", -EINVAL},
		{"/bytes/-1", -EINVAL},
		{"/bytes/+1", -EINVAL},
		{"/bytes/ 1", -EINVAL},
		{"/bytes/01", -EINVAL},
		{"/bytes/1/2", -EINVAL},
		{"/bytes/1025", -ERANGE},
		{"/bytes/18446744073709551616", -ERANGE},
		{"/bytes/99999999999999999999999", -ERANGE},
		{"/bytes", 0},
		{"/byte/1", 0},
		{"/", 0},
	};
	uint64_t n = 42;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = http_request_bytes_path(cases[i].path, 1024, &n);

		if (ret != cases[i].ret)
			fprintf(stderr, "path \"%s\": got %d, want %d\n", cases[i].path, ret,
				cases[i].ret);
		CU_ASSERT_EQUAL(ret, cases[i].ret);
	}
	CU_ASSERT_EQUAL(n, 42); /* never written on failure */
	CU_ASSERT_EQUAL(http_request_bytes_path("/bytes/18446744073709551615", UINT64_MAX - 1, &n),
			-ERANGE);
	CU_ASSERT_EQUAL(http_request_bytes_path("/bytes/10", 9, &n), -ERANGE);
	CU_ASSERT_EQUAL(http_request_bytes_path("/bytes/9", 0, &n), -ERANGE);
}

static void test_bytes_path_good(void)
{
	uint64_t n = 42;

	CU_ASSERT_EQUAL(http_request_bytes_path("/bytes/0", 1024, &n), 1);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(http_request_bytes_path("/bytes/1024", 1024, &n), 1);
	CU_ASSERT_EQUAL(n, 1024);
	CU_ASSERT_EQUAL(http_request_bytes_path("/bytes/1073741824", 1ull << 30, &n), 1);
	CU_ASSERT_EQUAL(n, 1ull << 30);
	CU_ASSERT_EQUAL(http_request_bytes_path("/bytes/18446744073709551615", UINT64_MAX, &n), 1);
	CU_ASSERT_EQUAL(n, UINT64_MAX);
}

int main(void)
{
	CU_pSuite suite;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("http_request", NULL, NULL);
	CU_add_test(suite, "bad requests", test_bad_requests);
	CU_add_test(suite, "NUL in the request line", test_nul_in_request_line);
	CU_add_test(suite, "oversize header block", test_oversize);
	CU_add_test(suite, "path length limits", test_path_limits);
	CU_add_test(suite, "body length fields, rejected and odd", test_body_fields_bad);
	CU_add_test(suite, "/bytes/N rejected", test_bytes_path_bad);
	CU_add_test(suite, "good requests", test_good_requests);
	CU_add_test(suite, "body length fields", test_body_fields_good);
	CU_add_test(suite, "/bytes/N accepted", test_bytes_path_good);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed == 0 ? 0 : 1;
}
