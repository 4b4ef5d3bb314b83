/* SPDX-License-Identifier: MIT */
/* Unit tests for client/json_output.c: journalctl's printability test and JSON encoding of
 * values and strings. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-reference.h"
#include "json_output.h"
#include "unit-test.h"

#define P(lit) json_utf8_is_printable(lit, sizeof(lit) - 1)

static const struct json_options defaults = {.show_all = false};
static const struct json_options all = {.show_all = true};

/* The buffer's contents as a NUL-terminated string, for assert_string_equal. */
static const char *str(struct buffer *b) {
        assert_int_equal(buffer_reserve(b, 1), 0);
        b->data[b->len] = '\0';
        return b->data;
}

static void check_value(const char *value, size_t n, size_t data_len, const struct json_options *o,
                        const char *expect) {
        struct buffer b = {};

        assert_int_equal(json_append_value(&b, value, n, data_len, o), 0);
        assert_int_equal(b.len, strlen(expect));
        assert_string_equal(str(&b), expect);
        buffer_free(&b);
}

static void check_string(const char *s, size_t n, const char *expect) {
        struct buffer b = {};

        assert_int_equal(json_append_string(&b, s, n), 0);
        assert_int_equal(b.len, strlen(expect));
        assert_memory_equal(b.data, expect, b.len);
        buffer_free(&b);
}

/* ---- json_utf8_is_printable ---------------------------------------------------------------- */

static void test_printable_ascii(void **state) {
        (void) state;

        assert_true(P(""));
        assert_true(P("hello world"));
        assert_true(P(" !\"#$%&'()*+,-./0123456789:;<=>?@AZ[\\]^_`az{|}~"));
        assert_true(P("\t"));
        assert_true(P("\n"));
        assert_true(P("a\tb\nc"));
}

static void test_printable_ascii_controls(void **state) {
        (void) state;

        assert_false(P("\0"));
        assert_false(P("a\0b"));
        assert_false(P("\r"));
        assert_false(P("line\r\n"));
        assert_false(P("\x1b[31m"));
        assert_false(P("\x7f"));
        assert_false(P("\b"));
        assert_false(P("\f"));
        assert_false(P("\v"));
        assert_false(P("\x01"));
        assert_false(P("\x1f"));
        /* Every C0 byte except \t and \n, alone and inside text. */
        for (int c = 0; c < 0x20; c++) {
                char s[3] = {'a', (char) c, 'b'};

                assert_int_equal(json_utf8_is_printable(s, 3), c == '\t' || c == '\n');
                assert_int_equal(json_utf8_is_printable(s + 1, 1), c == '\t' || c == '\n');
        }
}

static void test_printable_utf8(void **state) {
        (void) state;

        assert_true(P("\xc3\xa9"));         /* é U+00E9 */
        assert_true(P("\xc2\xa0"));         /* U+00A0, first after C1 */
        assert_true(P("\xe2\x82\xac"));     /* € U+20AC */
        assert_true(P("\xf0\x9f\x98\x80")); /* 😀 U+1F600 */
        assert_true(P("\xf4\x8f\xbf\xbd")); /* U+10FFFD, highest printable */
        assert_true(P("\xef\xbf\xbd"));     /* U+FFFD replacement character */
        assert_true(P("\xed\x9f\xbf"));     /* U+D7FF, just below surrogates */
        assert_true(P("\xee\x80\x80"));     /* U+E000, just above surrogates */
        assert_true(P("\xef\xb7\x8f"));     /* U+FDCF, just below U+FDD0 */
        assert_true(P("\xef\xb7\xb0"));     /* U+FDF0, just above U+FDEF */
        assert_true(P("\xdf\xbf"));         /* U+07FF, longest 2-byte */
        assert_true(P("\xe0\xa0\x80"));     /* U+0800, shortest 3-byte */
        assert_true(P("\xf0\x90\x80\x80")); /* U+10000, shortest 4-byte */
        assert_true(P("caf\xc3\xa9 \xe2\x82\xac\t\xf0\x9f\x98\x80\n"));
}

static void test_printable_utf8_invalid(void **state) {
        (void) state;

        assert_false(P("\xc2\x85"));                 /* U+0085 NEL, C1 control */
        assert_false(P("\xc2\x80"));                 /* U+0080 */
        assert_false(P("\xc2\x9f"));                 /* U+009F */
        assert_false(P("\xc0\xaf"));                 /* overlong '/' */
        assert_false(P("\xc1\xbf"));                 /* overlong */
        assert_false(P("\xc0\x80"));                 /* overlong NUL */
        assert_false(P("\xe0\x80\xaf"));             /* overlong '/' */
        assert_false(P("\xe0\x9f\xbf"));             /* overlong U+07FF */
        assert_false(P("\xf0\x80\x80\xaf"));         /* overlong '/' */
        assert_false(P("\xf0\x8f\xbf\xbf"));         /* overlong U+FFFF */
        assert_false(P("\xed\xa0\x80"));             /* U+D800 surrogate */
        assert_false(P("\xed\xbf\xbf"));             /* U+DFFF surrogate */
        assert_false(P("\xef\xbf\xbe"));             /* U+FFFE */
        assert_false(P("\xef\xbf\xbf"));             /* U+FFFF */
        assert_false(P("\xf0\x9f\xbf\xbe"));         /* U+1FFFE */
        assert_false(P("\xf4\x8f\xbf\xbf"));         /* U+10FFFF */
        assert_false(P("\xef\xb7\x90"));             /* U+FDD0 */
        assert_false(P("\xef\xb7\xaf"));             /* U+FDEF */
        assert_false(P("\xf4\x90\x80\x80"));         /* U+110000 */
        assert_false(P("\xf7\xbf\xbf\xbf"));         /* U+1FFFFF */
        assert_false(P("\xf8\x88\x80\x80\x80"));     /* 5-byte form */
        assert_false(P("\xfc\x84\x80\x80\x80\x80")); /* 6-byte form */
        assert_false(P("\xfe"));
        assert_false(P("\xff"));
        /* Truncated sequences, at the end and followed by ASCII. */
        assert_false(P("\xc3"));
        assert_false(P("\xe2\x82"));
        assert_false(P("\xf0\x9f\x98"));
        assert_false(P("\xc3 a"));
        assert_false(P("\xe2\x82"
                       "a"));
        assert_false(P("\xf0\x9f\x98"
                       "a"));
        /* Stray continuation bytes. */
        assert_false(P("\x80"));
        assert_false(P("a\xbf"));
        assert_false(P("\xc3\xa9\xa9"));
}

/* The length argument is honoured: nothing is read past it. */
static void test_printable_length(void **state) {
        char *heap;
        (void) state;

        assert_true(json_utf8_is_printable("ab\0\x1b", 2));
        assert_false(json_utf8_is_printable("ab\0\x1b", 3));
        /* A multi-byte sequence cut by the length, at the very end of an allocation. */
        heap = malloc(2);
        assert_non_null(heap);
        memcpy(heap, "a\xe2", 2);
        assert_false(json_utf8_is_printable(heap, 2));
        heap[1] = 'b';
        assert_true(json_utf8_is_printable(heap, 2));
        free(heap);
        heap = malloc(3);
        assert_non_null(heap);
        memcpy(heap, "\xf0\x9f\x98", 3);
        assert_false(json_utf8_is_printable(heap, 3));
        free(heap);
}

/* ---- json_append_value --------------------------------------------------------------------- */

static void test_value_threshold(void **state) {
        char *v = malloc(JSON_THRESHOLD);
        struct buffer b = {};
        (void) state;

        assert_non_null(v);
        memset(v, 'x', JSON_THRESHOLD);
        /* "MESSAGE=" + value: data_len 4095 prints, 4096 is null. */
        assert_int_equal(json_append_value(&b, v, 4095 - 8, 4095, &defaults), 0);
        assert_int_equal(b.len, 4095 - 8 + 2);
        assert_int_equal(b.data[0], '"');
        assert_int_equal(b.data[b.len - 1], '"');
        assert_memory_equal(b.data + 1, v, 4095 - 8);
        buffer_free(&b);

        check_value(v, 4096 - 8, 4096, &defaults, "null");
        check_value(v, 3, 1 << 20, &defaults, "null");
        /* The threshold is about data_len only, and --all disables it. */
        check_value("\x01", 1, 4096, &defaults, "null");

        assert_int_equal(json_append_value(&b, v, 4096 - 8, 4096, &all), 0);
        assert_int_equal(b.len, 4096 - 8 + 2);
        buffer_free(&b);
        check_value("\x01\x02", 2, 5000, &all, "[1,2]");
        free(v);
}

static void test_value_kinds(void **state) {
        (void) state;

        check_value("", 0, 8, &defaults, "\"\"");
        check_value("hello", 5, 13, &defaults, "\"hello\"");
        check_value("caf\xc3\xa9", 5, 13, &defaults, "\"caf\xc3\xa9\"");
        check_value("a\tb\nc", 5, 13, &defaults, "\"a\\tb\\nc\"");
        check_value("\x01\x02\xff", 3, 11, &defaults, "[1,2,255]");
        check_value("a\rb", 3, 11, &defaults, "[97,13,98]");
        check_value("\0", 1, 9, &defaults, "[0]");
        check_value("\x09\x0a\x63\x64\x99\xc8", 6, 14, &defaults, "[9,10,99,100,153,200]");
        check_value("\xc2\x85", 2, 10, &defaults, "[194,133]");
        check_value("\xed\xa0\x80", 3, 11, &defaults, "[237,160,128]");
}

static void test_value_every_byte(void **state) {
        char all_bytes[256], expect[256 * 4 + 3], *w = expect;
        (void) state;

        for (int i = 0; i < 256; i++) {
                all_bytes[i] = (char) i;
                w += sprintf(w, "%s%d", i ? "," : "[", i);
        }
        strcpy(w, "]");
        check_value(all_bytes, 256, 300, &defaults, expect);
}

static void test_value_appends(void **state) {
        struct buffer b = {};
        (void) state;

        assert_int_equal(buffer_append_str(&b, "{\"A\":"), 0);
        assert_int_equal(json_append_value(&b, "x", 1, 3, &defaults), 0);
        assert_int_equal(buffer_append_str(&b, ",\"B\":"), 0);
        assert_int_equal(json_append_value(&b, "\x1b", 1, 3, &defaults), 0);
        assert_int_equal(buffer_append_str(&b, ",\"C\":"), 0);
        assert_int_equal(json_append_value(&b, "x", 1, 9999, &defaults), 0);
        assert_int_equal(buffer_append_str(&b, "}"), 0);
        assert_string_equal(str(&b), "{\"A\":\"x\",\"B\":[27],\"C\":null}");
        buffer_free(&b);
}

/* The value encoder works eight bytes at a time, or sixteen with SSE2: a special byte at every
 * position of values of every length up to three blocks of sixteen, alone and followed by a
 * second one at the value's end, against the byte-by-byte reference. */
static void test_value_word_boundaries(void **state) {
        static const char *const specials[] = {"\"",           "\\",   "\t",   "\n",
                                               "\x01",         "\x1f", "\x7f", "\xc3\xa9",
                                               "\xe2\x82\xac", "\xff", "\xc3"};
        (void) state;

        for (size_t n = 1; n <= 48; n++)
                for (size_t pos = 0; pos < n; pos++)
                        for (size_t k = 0; k < 2 * (sizeof(specials) / sizeof(*specials)); k++) {
                                size_t nk = sizeof(specials) / sizeof(*specials);
                                const char *special = specials[k % nk];
                                struct buffer expect = {};
                                char v[64];
                                size_t len = strlen(special), m;

                                if (pos + len > n)
                                        continue;
                                for (m = 0; m < n; m++)
                                        v[m] = (char) ('a' + m % 26);
                                /* The second half of the rounds: a '"' at the end as well. */
                                if (k >= nk)
                                        v[n - 1] = '"';
                                memcpy(v + pos, special, len);
                                assert_int_equal(json_reference_value(v, n, &expect), 0);
                                check_value(v, n, n + 8, &defaults, str(&expect));
                                buffer_free(&expect);
                        }
}

static void test_buffer_numbers(void **state) {
        struct buffer b = {};
        const unsigned char id[16] = {0x00, 0x01, 0x0a, 0xff, 0x10, 0x9c, 0xde, 0x7f,
                                      0x80, 0x42, 0x00, 0x00, 0xab, 0xcd, 0xef, 0x99};
        (void) state;

        assert_int_equal(buffer_append_u64(&b, 0), 0);
        assert_int_equal(buffer_append_str(&b, " "), 0);
        assert_int_equal(buffer_append_u64(&b, 1733250000123456), 0);
        assert_int_equal(buffer_append_str(&b, " "), 0);
        assert_int_equal(buffer_append_u64(&b, UINT64_MAX), 0);
        assert_int_equal(buffer_append_str(&b, " "), 0);
        assert_int_equal(buffer_append_hex(&b, id, sizeof(id)), 0);
        assert_string_equal(str(&b), "0 1733250000123456 18446744073709551615 "
                                     "00010aff109cde7f80420000abcdef99");
        buffer_free(&b);
}

/* ---- json_append_string -------------------------------------------------------------------- */

static void test_string_escapes(void **state) {
        (void) state;

        check_string("", 0, "\"\"");
        check_string("plain", 5, "\"plain\"");
        check_string("\"", 1, "\"\\\"\"");
        check_string("\\", 1, "\"\\\\\"");
        check_string("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"");
        check_string("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
        check_string("/", 1, "\"/\"");
        check_string("\x7f", 1, "\"\x7f\"");
        check_string("\0", 1, "\"\\u0000\"");
        check_string("\x01\x0b\x0e\x1b\x1f", 5, "\"\\u0001\\u000b\\u000e\\u001b\\u001f\"");
        /* UTF-8 (and any high byte) stays raw. */
        check_string("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9,
                     "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
        check_string("\x80\xff", 2, "\"\x80\xff\"");
}

static void test_string_all_c0(void **state) {
        static const char *const named[0x20] = {
                ['\b'] = "\\b", ['\f'] = "\\f", ['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t",
        };
        (void) state;

        for (int c = 0; c < 0x20; c++) {
                char in = (char) c, expect[16];

                if (named[c])
                        snprintf(expect, sizeof(expect), "\"%s\"", named[c]);
                else
                        snprintf(expect, sizeof(expect), "\"\\u%04x\"", c);
                check_string(&in, 1, expect);
        }
}

/* Worst case growth: every byte becomes six, in a buffer that already holds data. */
static void test_string_worst_case(void **state) {
        struct buffer b = {};
        size_t n = 5000;
        char *s = calloc(n, 1);
        (void) state;

        assert_non_null(s);
        assert_int_equal(buffer_append_str(&b, "prefix"), 0);
        assert_int_equal(json_append_string(&b, s, n), 0);
        assert_int_equal(b.len, 6 + n * 6 + 2);
        assert_memory_equal(b.data, "prefix\"\\u0000\\u0000", 19);
        assert_memory_equal(b.data + b.len - 7, "\\u0000\"", 7);
        buffer_free(&b);
        free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_printable_ascii),
                cmocka_unit_test(test_printable_ascii_controls),
                cmocka_unit_test(test_printable_utf8),
                cmocka_unit_test(test_printable_utf8_invalid),
                cmocka_unit_test(test_printable_length),
                cmocka_unit_test(test_value_threshold),
                cmocka_unit_test(test_value_kinds),
                cmocka_unit_test(test_value_every_byte),
                cmocka_unit_test(test_value_appends),
                cmocka_unit_test(test_value_word_boundaries),
                cmocka_unit_test(test_buffer_numbers),
                cmocka_unit_test(test_string_escapes),
                cmocka_unit_test(test_string_all_c0),
                cmocka_unit_test(test_string_worst_case),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
