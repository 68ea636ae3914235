// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: the exporter's HTTP request parser, pipelined requests included. */
#include <stdint.h>
#include <string.h>

#include "http_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct hm_http_request req;

	/* as the server does: one request head after another from one buffer */
	while (size && hm_http_parse(p, size, &req) == HM_HTTP_COMPLETE) {
		if (!req.head_len || req.head_len > size || !memchr(req.path, '\0', sizeof(req.path)))
			__builtin_trap();
		p += req.head_len;
		size -= req.head_len;
	}
	return 0;
}
