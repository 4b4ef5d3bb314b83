/* SPDX-License-Identifier: MIT */
/* Unit tests for the pure parts of client/text_output.c and client/output_format.c: sizes,
 * ANSI stripping, source timestamp parsing, timestamp formats, json-pretty layout, mode names.
 * The whole formats are compared with journalctl by test/output/run.sh. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal_entry.h"
#include "output_format.h"
#include "text_output.h"
#include "unit-test.h"

#define L(lit) lit, sizeof(lit) - 1

static void check_bytes(uint64_t n, const char *expect) {
        char buf[TEXT_BYTES_MAX];

        assert_string_equal(text_format_bytes(n, buf), expect);
}

static void test_format_bytes(void **state) {
        (void) state;

        check_bytes(0, "0B");
        check_bytes(1, "1B");
        check_bytes(1023, "1023B");
        check_bytes(1024, "1.0K");
        check_bytes(1126, "1.0K");
        check_bytes(1127, "1.1K");
        check_bytes(4096, "4.0K");
        check_bytes(4097, "4.0K");
        check_bytes(70000, "68.3K");
        check_bytes(1048575, "1023.9K");
        check_bytes(1048576, "1.0M");
        check_bytes(1572864, "1.5M");
        check_bytes(UINT64_C(3) << 29, "1.5G");
        check_bytes(UINT64_C(1) << 40, "1.0T");
        check_bytes(UINT64_MAX, "15.9E");
}

static void check_strip(const char *in, size_t n, const char *expect, size_t expect_len) {
        struct buffer b = {};

        assert_int_equal(text_strip_ansi(in, n, &b), 0);
        assert_int_equal(b.len, expect_len);
        if (expect_len > 0)
                assert_memory_equal(b.data, expect, expect_len);
        buffer_free(&b);
}

#define STRIP(in, out) check_strip(L(in), L(out))

static void test_strip_ansi(void **state) {
        (void) state;

        STRIP("", "");
        STRIP("plain", "plain");
        STRIP("\x1b[31mred\x1b[0m", "red");
        STRIP("\x1b[1;32mgreen\x1b[m.", "green.");
        STRIP("a\tb", "a        b");
        STRIP("\t\t", "                ");
        /* Carriage returns go before a newline and at the end, stay elsewhere. */
        STRIP("a\r\nb\r", "a\nb");
        STRIP("a\r\r\nb", "a\nb");
        STRIP("a\rb", "a\rb");
        STRIP("\r\x1b[1mx", "\rx");
        /* Not colour sequences: kept as they are. */
        STRIP("\x1b[2Jx", "\x1b[2Jx");
        STRIP("\x1b[1;2Hx", "\x1b[1;2Hx");
        STRIP("\x1b(B", "\x1b(B");
        STRIP("end\x1b", "end\x1b");
        STRIP("cut\x1b[12", "cut\x1b[12");
        /* A NUL inside a colour sequence is taken as part of it, as in systemd. */
        STRIP("a\x1b[1;\0"
              "2mb",
              "ab");
        /* OSC (hyperlinks) up to BEL. */
        STRIP("\x1b]8;;http://x/\alink\x1b]8;;\a", "link");
        STRIP("\x1b]8;;ab\x01"
              "c",
              "\x1b]8;;ab\x01"
              "c");
        STRIP("\x1b]open", "\x1b]open");
        STRIP("\x1b]\xc3\xa9\a", "\x1b]\xc3\xa9\a");
}

static void check_usec(const char *s, int expect_r, uint64_t expect) {
        uint64_t v = 0;

        assert_int_equal(text_parse_usec(s, &v), expect_r);
        if (expect_r == 0)
                assert_int_equal(v, expect);
}

static void test_parse_usec(void **state) {
        (void) state;

        check_usec("1700000000000000", 0, UINT64_C(1700000000000000));
        check_usec("0", 0, 0);
        check_usec(" \t42", 0, 42);
        check_usec("+7", 0, 7);
        check_usec("0x10", 0, 16);
        check_usec("010", 0, 8);
        check_usec("0b101", 0, 5);
        check_usec("0o17", 0, 15);
        check_usec("-0", 0, 0);
        check_usec("0000000000000000000000000000000000000000000000000000000000000000017", 0, 15);
        check_usec("", -EINVAL, 0);
        check_usec("abc", -EINVAL, 0);
        check_usec("12 ", -EINVAL, 0);
        check_usec("0x", -EINVAL, 0);
        check_usec("-5", -ERANGE, 0);
        check_usec("99999999999999999999999", -ERANGE, 0);
}

static void set_tz(const char *tz) {
        assert_int_equal(setenv("TZ", tz, 1), 0);
        tzset();
}

static void check_timestamp(size_t l, uint64_t usec, bool utc, bool us, const char *expect) {
        char buf[64];
        int n;

        assert_true(l <= sizeof(buf));
        n = text_format_timestamp(buf, l, usec, utc, us);
        if (!expect) {
                assert_true(n < 0);
                return;
        }
        assert_int_equal(n, strlen(expect));
        assert_string_equal(buf, expect);
}

static void test_format_timestamp(void **state) {
        const uint64_t t = UINT64_C(1700000000123456); /* Tue 2023-11-14 22:13:20 UTC */

        (void) state;
        set_tz("EST5EDT,M3.2.0,M11.1.0");
        check_timestamp(64, t, false, false, "Tue 2023-11-14 17:13:20 EST");
        check_timestamp(64, t, false, true, "Tue 2023-11-14 17:13:20.123456 EST");
        check_timestamp(64, t, true, false, "Tue 2023-11-14 22:13:20 UTC");
        check_timestamp(45, t, true, true, "Tue 2023-11-14 22:13:20.123456 UTC");
        check_timestamp(64, UINT64_C(1690000000000000), false, false,
                        "Sat 2023-07-22 00:26:40 EDT");
        check_timestamp(64, 0, false, false, NULL);
        check_timestamp(64, UINT64_MAX, false, false, NULL);
        check_timestamp(20, t, false, false, NULL);

        /* A zone name that does not fit is left out (journalctl's verbose buffer is 45). */
        set_tz("<ABCDEFGHIJKLMNOPQRST>5");
        check_timestamp(64, t, false, false, "Tue 2023-11-14 17:13:20 ABCDEFGHIJKLMNOPQRST");
        check_timestamp(45, t, false, true, "Tue 2023-11-14 17:13:20.123456");
        set_tz("UTC0");
}

static void check_realtime(enum output_mode mode, uint64_t usec, bool utc, const char *expect) {
        char buf[TEXT_TIMESTAMP_MAX];
        int n = text_format_realtime(mode, usec, utc, buf);

        assert_int_equal(n, strlen(expect));
        assert_string_equal(buf, expect);
}

static void test_format_realtime(void **state) {
        const uint64_t t = UINT64_C(1700000000123456);

        (void) state;
        set_tz("<+0530>-5:30");
        check_realtime(OUTPUT_SHORT, t, false, "Nov 15 03:43:20");
        check_realtime(OUTPUT_SHORT, t, true, "Nov 14 22:13:20");
        check_realtime(OUTPUT_SHORT_PRECISE, t, false, "Nov 15 03:43:20.123456");
        check_realtime(OUTPUT_SHORT_UNIX, t, false, "1700000000.123456");
        check_realtime(OUTPUT_SHORT_UNIX, 5000001, false, "         5.000001");
        check_realtime(OUTPUT_SHORT_FULL, t, false, "Wed 2023-11-15 03:43:20 +0530");
        check_realtime(OUTPUT_WITH_UNIT, t, true, "Tue 2023-11-14 22:13:20 UTC");
#if LIBSYSTEMD_VERSION >= 255
        check_realtime(OUTPUT_SHORT_ISO, t, false, "2023-11-15T03:43:20+05:30");
        check_realtime(OUTPUT_SHORT_ISO_PRECISE, t, true, "2023-11-14T22:13:20.123456+00:00");
#else
        check_realtime(OUTPUT_SHORT_ISO, t, false, "2023-11-15T03:43:20+0530");
        check_realtime(OUTPUT_SHORT_ISO_PRECISE, t, true, "2023-11-14T22:13:20.123456+0000");
#endif
        set_tz("UTC0");
}

static void check_pretty(const char *in, int expect_r, const char *expect) {
        struct buffer b = {};

        assert_int_equal(output_json_prettify(in, strlen(in), &b), expect_r);
        if (expect_r == 0) {
                assert_int_equal(b.len, strlen(expect));
                assert_memory_equal(b.data, expect, b.len);
        } else
                assert_int_equal(b.len, 0);
        buffer_free(&b);
}

static void test_json_prettify(void **state) {
        (void) state;

        check_pretty("{\"a\":\"x\",\"b\":[1,22],\"c\":null,\"d\":[],\"e\":[[1],\"s\"]}\n", 0,
                     "{\n"
                     "\t\"a\" : \"x\",\n"
                     "\t\"b\" : [\n\t\t1,\n\t\t22\n\t],\n"
                     "\t\"c\" : null,\n"
                     "\t\"d\" : [],\n"
                     "\t\"e\" : [\n\t\t[\n\t\t\t1\n\t\t],\n\t\t\"s\"\n\t]\n"
                     "}");
        /* Structure characters and escaped quotes inside strings stay as they are. */
        check_pretty("{\"k\":\"a,b:{[\\\"]}\\\\\"}", 0, "{\n\t\"k\" : \"a,b:{[\\\"]}\\\\\"\n}");
        check_pretty("{}", 0, "{}");
        check_pretty("{\"a\":1", -EINVAL, NULL);
        check_pretty("{\"a\":\"open}", -EINVAL, NULL);
        check_pretty("]", -EINVAL, NULL);
}

static void test_mode_names(void **state) {
        (void) state;

        for (int m = 0; m < _OUTPUT_MODE_MAX; m++) {
                const char *s = output_mode_to_string(m);

                assert_non_null(s);
                assert_int_equal(output_mode_from_string(s), m);
        }
        assert_int_equal(output_mode_from_string("short-iso"), OUTPUT_SHORT_ISO);
        assert_int_equal(output_mode_from_string("json"), OUTPUT_JSON);
        assert_int_equal(output_mode_from_string("JSON"), -EINVAL);
        assert_int_equal(output_mode_from_string(""), -EINVAL);
        assert_int_equal(output_mode_from_string("short-"), -EINVAL);
        assert_null(output_mode_to_string(_OUTPUT_MODE_MAX));
}

static void test_field_names(void **state) {
        char *fields[] = {(char *) "MESSAGE", (char *) "_PID", NULL};

        (void) state;
        assert_true(journal_field_name_valid(L("MESSAGE")));
        assert_true(journal_field_name_valid(L("_PID")));
        assert_true(journal_field_name_valid(L("A1_")));
        assert_false(journal_field_name_valid(L("")));
        assert_false(journal_field_name_valid(L("1A")));
        assert_false(journal_field_name_valid(L("message")));
        assert_false(journal_field_name_valid(L("A-B")));
        assert_true(journal_field_name_valid(
                L("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")));
        assert_false(journal_field_name_valid(
                L("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")));

        assert_true(journal_field_wanted(NULL, L("ANY")));
        assert_true(journal_field_wanted(fields, L("MESSAGE")));
        assert_true(journal_field_wanted(fields, L("_PID")));
        assert_false(journal_field_wanted(fields, L("MESSAGE_ID")));
        assert_false(journal_field_wanted(fields, L("MESSAG")));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_format_bytes),    cmocka_unit_test(test_strip_ansi),
                cmocka_unit_test(test_parse_usec),      cmocka_unit_test(test_format_timestamp),
                cmocka_unit_test(test_format_realtime), cmocka_unit_test(test_json_prettify),
                cmocka_unit_test(test_mode_names),      cmocka_unit_test(test_field_names),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
