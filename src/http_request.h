/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exporter's HTTP/1.x request head parser: a pure function of the bytes
 * received so far, so the server loop stays small and the parser can be
 * fuzzed without a socket. Bodies are never read: a request announcing one
 * is answered and its connection closed.
 */
#ifndef HM_HTTP_REQUEST_H
#define HM_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#define HM_HTTP_MAX_HEAD 8192         /* request line + headers */
#define HM_HTTP_MAX_PATH 256

enum hm_http_parse {
	HM_HTTP_INCOMPLETE,           /* no blank line yet: read more */
	HM_HTTP_COMPLETE,             /* *req filled, head_len bytes consumed */
	HM_HTTP_BAD,                  /* malformed: 400, then close */
	HM_HTTP_TOO_LARGE,            /* head beyond HM_HTTP_MAX_HEAD: 431, then close */
};

enum hm_http_method {
	HM_HTTP_GET,
	HM_HTTP_HEAD,
	HM_HTTP_OTHER,                /* answered 405 */
};

struct hm_http_request {
	enum hm_http_method method;
	char path[HM_HTTP_MAX_PATH];  /* without the query string; "" if too long */
	bool keep_alive;              /* HTTP/1.1 unless "Connection: close" */
	bool has_body;                /* Content-Length > 0 or Transfer-Encoding */
	size_t head_len;              /* bytes of this request's head */
};

enum hm_http_parse hm_http_parse(const char *buf, size_t len, struct hm_http_request *req);

#endif
