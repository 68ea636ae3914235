// SPDX-License-Identifier: GPL-2.0
/* The JSON string writer: escapes, and valid UTF-8 whatever the input. */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "json.h"

static void expect_json(const char *in, size_t max, const char *want)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	hm_json_string_n(out, in, max);
	fclose(out);
	assert_string_equal(buf, want);
	free(buf);
}

static void escapes_quotes_backslashes_and_controls(void **state)
{
	(void)state;
	expect_json("a\"b\\c\n\t\r\x01", 64, "\"a\\\"b\\\\c\\n\\t\\r\\u0001\"");
}

static void keeps_well_formed_utf8(void **state)
{
	(void)state;
	/* é, €, U+1F600, U+10FFFF */
	expect_json("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", 64,
		    "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"");
}

static void replaces_each_invalid_byte(void **state)
{
	(void)state;
	expect_json("\xff", 64, "\"\\ufffd\"");
	expect_json("a\xc3", 64, "\"a\\ufffd\"");                 /* cut sequence */
	expect_json("\xc0\x80", 64, "\"\\ufffd\\ufffd\"");         /* overlong NUL */
	expect_json("\xed\xa0\x80", 64, "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
	expect_json("\xf4\x90\x80\x80", 64, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
	expect_json("\xe0\x80\xaf", 64, "\"\\ufffd\\ufffd\\ufffd\"");  /* overlong / */
}

static void stops_at_the_field_length(void **state)
{
	(void)state;
	/* a comm filling its 16 bytes has no NUL; a sequence cut by the end */
	expect_json("0123456789abcdef-beyond", 16, "\"0123456789abcdef\"");
	expect_json("abc\xe2\x82\xac", 5, "\"abc\\ufffd\\ufffd\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escapes_quotes_backslashes_and_controls),
		cmocka_unit_test(keeps_well_formed_utf8),
		cmocka_unit_test(replaces_each_invalid_byte),
		cmocka_unit_test(stops_at_the_field_length),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
