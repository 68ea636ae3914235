// SPDX-License-Identifier: GPL-2.0
#include "http_request.h"

#include <string.h>
#include <strings.h>

/* The end of the head (after CRLFCRLF, or LFLF from lax clients), or 0. */
static size_t head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* How many of the first n bytes of s are in set (s need not be terminated). */
static size_t span(const char *s, size_t n, const char *set)
{
	size_t i = 0;

	while (i < n && s[i] && strchr(set, s[i]))
		i++;
	return i;
}

/* [s, s+n) equals the NUL-terminated word w, case-insensitively. */
static bool token_is(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && !strncasecmp(s, w, n);
}

static bool parse_request_line(const char *line, size_t n, struct hm_http_request *req,
			       bool *http11)
{
	const char *sp1 = memchr(line, ' ', n), *sp2, *target, *version;
	size_t tlen, vlen, plen;

	if (!sp1 || sp1 == line)
		return false;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(line + n - sp1 - 1));
	if (!sp2)
		return false;
	target = sp1 + 1;
	tlen = (size_t)(sp2 - target);
	version = sp2 + 1;
	vlen = (size_t)(line + n - version);
	if (!tlen || target[0] != '/' || memchr(target, ' ', tlen))
		return false;
	if (token_is(version, vlen, "HTTP/1.1"))
		*http11 = true;
	else if (token_is(version, vlen, "HTTP/1.0"))
		*http11 = false;
	else
		return false;
	if ((size_t)(sp1 - line) == 3 && !memcmp(line, "GET", 3))
		req->method = HM_HTTP_GET;
	else if ((size_t)(sp1 - line) == 4 && !memcmp(line, "HEAD", 4))
		req->method = HM_HTTP_HEAD;
	else
		req->method = HM_HTTP_OTHER;
	plen = 0;
	while (plen < tlen && target[plen] != '?')
		plen++;
	if (plen < sizeof(req->path)) {
		memcpy(req->path, target, plen);
		req->path[plen] = '\0';
	}
	for (size_t i = 0; i < plen; i++)
		if ((unsigned char)target[i] < 0x21 || (unsigned char)target[i] > 0x7e)
			return false;
	return true;
}

/* One "Name: value" line; false if it has no colon or a bad length. */
static bool parse_header(const char *line, size_t n, struct hm_http_request *req)
{
	const char *colon = memchr(line, ':', n), *v;
	size_t name_len, vlen;

	if (!colon || colon == line)
		return false;
	name_len = (size_t)(colon - line);
	v = colon + 1;
	vlen = (size_t)(line + n - v);
	while (vlen && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (token_is(line, name_len, "Connection")) {
		if (token_is(v, vlen, "close"))
			req->keep_alive = false;
		else if (token_is(v, vlen, "keep-alive"))
			req->keep_alive = true;
	} else if (token_is(line, name_len, "Content-Length")) {
		if (!vlen || span(v, vlen, "0123456789") < vlen)
			return false;
		if (span(v, vlen, "0") < vlen)
			req->has_body = true;
	} else if (token_is(line, name_len, "Transfer-Encoding")) {
		req->has_body = true;
	}
	return true;
}

enum hm_http_parse hm_http_parse(const char *buf, size_t len, struct hm_http_request *req)
{
	size_t end = head_end(buf, len > HM_HTTP_MAX_HEAD ? HM_HTTP_MAX_HEAD : len);
	bool http11 = false, first = true;
	const char *p = buf;

	memset(req, 0, sizeof(*req));
	if (!end)
		return len >= HM_HTTP_MAX_HEAD ? HM_HTTP_TOO_LARGE : HM_HTTP_INCOMPLETE;
	req->head_len = end;
	while (p < buf + end) {
		const char *nl = memchr(p, '\n', (size_t)(buf + end - p));
		size_t n = (size_t)(nl - p);

		if (n && p[n - 1] == '\r')
			n--;
		if (!n)
			break; /* the blank line */
		if (memchr(p, '\0', n))
			return HM_HTTP_BAD;
		if (first) {
			if (!parse_request_line(p, n, req, &http11))
				return HM_HTTP_BAD;
			req->keep_alive = http11;
			first = false;
		} else if (!parse_header(p, n, req)) {
			return HM_HTTP_BAD;
		}
		p = nl + 1;
	}
	if (first)
		return HM_HTTP_BAD; /* a blank line first */
	return HM_HTTP_COMPLETE;
}
