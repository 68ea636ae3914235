// SPDX-License-Identifier: GPL-2.0
/* The exporter's HTTP request head parser. */
#include "unit.h"

#include <string.h>

#include "http_request.h"

static enum hm_http_parse parse(const char *text, struct hm_http_request *req)
{
	return hm_http_parse(text, strlen(text), req);
}

static void a_scrape_and_its_keep_alive(void **state)
{
	struct hm_http_request req;
	const char *text = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n";

	(void)state;
	assert_int_equal(parse(text, &req), HM_HTTP_COMPLETE);
	assert_int_equal(req.method, HM_HTTP_GET);
	assert_string_equal(req.path, "/metrics");
	assert_true(req.keep_alive);
	assert_false(req.has_body);
	assert_int_equal(req.head_len, strlen(text));
	assert_int_equal(parse("HEAD / HTTP/1.0\r\n\r\n", &req), HM_HTTP_COMPLETE);
	assert_int_equal(req.method, HM_HTTP_HEAD);
	assert_false(req.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.1\r\nconnection:  Close \r\n\r\n", &req),
			 HM_HTTP_COMPLETE);
	assert_false(req.keep_alive);
	assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", &req),
			 HM_HTTP_COMPLETE);
	assert_int_equal(req.method, HM_HTTP_OTHER);
	assert_true(req.has_body);
}

static void pipelined_heads_one_at_a_time(void **state)
{
	struct hm_http_request req;
	const char *text = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";

	(void)state;
	assert_int_equal(parse(text, &req), HM_HTTP_COMPLETE);
	assert_string_equal(req.path, "/a");
	assert_int_equal(parse(text + req.head_len, &req), HM_HTTP_COMPLETE);
	assert_string_equal(req.path, "/b");
}

static void incomplete_bad_and_too_large(void **state)
{
	struct hm_http_request req;
	static char big[HM_HTTP_MAX_HEAD + 16];

	(void)state;
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: a\r\n", &req), HM_HTTP_INCOMPLETE);
	assert_int_equal(parse("GARBAGE\r\n\r\n", &req), HM_HTTP_BAD);
	assert_int_equal(parse("GET metrics HTTP/1.1\r\n\r\n", &req), HM_HTTP_BAD);
	assert_int_equal(parse("GET / HTTP/2\r\n\r\n", &req), HM_HTTP_BAD);
	assert_int_equal(parse("GET / HTTP/1.1\r\nNoColon\r\n\r\n", &req), HM_HTTP_BAD);
	assert_int_equal(parse("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &req),
			 HM_HTTP_BAD);
	memset(big, 'a', sizeof(big));
	assert_int_equal(hm_http_parse(big, sizeof(big), &req), HM_HTTP_TOO_LARGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_scrape_and_its_keep_alive),
		cmocka_unit_test(pipelined_heads_one_at_a_time),
		cmocka_unit_test(incomplete_bad_and_too_large),
	};

	return cmocka_run_group_tests_name("http_request", tests, NULL, NULL);
}
