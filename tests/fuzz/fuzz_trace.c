// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: the trace reader and the stack/symbol tables it fills. */
#include <stdint.h>

#include "fuzz_input.h"
#include "stacks.h"
#include "trace_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hm_trace_reader *r;
	struct hm_trace_record rec;
	struct hm_stacks *stacks;
	char path[64], err[256];
	int fd = fuzz_input_file(data, size, path, sizeof(path));

	if (fd < 0)
		return 0;
	r = hm_trace_reader_open(path, err, sizeof(err));
	stacks = hm_stacks_new();
	while (r && stacks && hm_trace_read(r, &rec) == HM_READ_OK)
		if (rec.kind == HM_REC_STACK || rec.kind == HM_REC_SYMBOL)
			hm_trace_apply_table_record(&rec, stacks);
	if (r) {
		hm_trace_reader_offset(r);
		hm_trace_reader_error(r);
		hm_trace_reader_close(r);
	}
	hm_stacks_free(stacks);
	close(fd);
	return 0;
}
