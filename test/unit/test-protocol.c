/* SPDX-License-Identifier: MIT */
/* Unit tests for common/protocol.c: the pure encoder and decoder of the 8-byte broker message. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "protocol.h"
#include "unit-test.h"

/* A well-formed record; tests patch single bytes. */
static void valid_record(uint8_t buf[PROTO_MESSAGE_SIZE], uint8_t type, uint8_t streams,
                         uint8_t error) {
        memset(buf, 0, PROTO_MESSAGE_SIZE);
        buf[0] = 'J';
        buf[1] = 'A';
        buf[2] = PROTO_VERSION;
        buf[3] = type;
        buf[4] = streams;
        buf[5] = error;
}

static int decode(const uint8_t *buf, size_t size) {
        struct proto_message m = {.type = 0xAA, .streams = 0xAA, .error = 0xAA};
        int r = proto_decode(buf, size, &m);

        /* ret is written only on success. */
        if (r < 0) {
                assert_int_equal(m.type, 0xAA);
                assert_int_equal(m.streams, 0xAA);
                assert_int_equal(m.error, 0xAA);
        }
        return r;
}

static void roundtrip(uint8_t type, uint8_t streams, uint8_t error) {
        const struct proto_message in = {.type = type, .streams = streams, .error = error};
        uint8_t buf[PROTO_MESSAGE_SIZE], expect[PROTO_MESSAGE_SIZE];
        struct proto_message out;

        memset(buf, 0xEE, sizeof(buf));
        assert_int_equal(proto_encode(&in, buf, sizeof(buf)), PROTO_MESSAGE_SIZE);
        valid_record(expect, type, streams, error);
        assert_memory_equal(buf, expect, PROTO_MESSAGE_SIZE);

        memset(&out, 0xEE, sizeof(out));
        assert_int_equal(proto_decode(buf, sizeof(buf), &out), 0);
        assert_int_equal(out.type, type);
        assert_int_equal(out.streams, streams);
        assert_int_equal(out.error, error);
}

static void test_roundtrip_all_valid(void **state) {
        static const uint8_t with_streams[] = {PROTO_DEPOSIT, PROTO_FETCH, PROTO_FDS};
        (void) state;

        for (size_t i = 0; i < sizeof(with_streams); i++)
                for (uint8_t s = 1; s <= PROTO_STREAM_ALL; s++)
                        roundtrip(with_streams[i], s, 0);
        roundtrip(PROTO_ERROR, 0, EPERM);
        roundtrip(PROTO_ERROR, 0, EACCES);
        roundtrip(PROTO_ERROR, 0, 255);
        roundtrip(PROTO_OK, 0, 0);
}

static void test_decode_wrong_size(void **state) {
        uint8_t buf[PROTO_MESSAGE_SIZE + 1];
        (void) state;

        valid_record(buf, PROTO_FETCH, PROTO_STREAM_ALL, 0);
        buf[PROTO_MESSAGE_SIZE] = 0;
        assert_int_equal(decode(buf, PROTO_MESSAGE_SIZE), 0);
        assert_int_equal(decode(buf, PROTO_MESSAGE_SIZE - 1), -EBADMSG);
        assert_int_equal(decode(buf, PROTO_MESSAGE_SIZE + 1), -EBADMSG);
        assert_int_equal(decode(buf, 0), -EBADMSG);
        assert_int_equal(decode(buf, 1), -EBADMSG);
}

static void test_decode_bad_magic(void **state) {
        uint8_t buf[PROTO_MESSAGE_SIZE];
        (void) state;

        valid_record(buf, PROTO_FETCH, PROTO_STREAM_ALL, 0);
        buf[0] = 'j';
        assert_int_equal(decode(buf, sizeof(buf)), -EBADMSG);
        valid_record(buf, PROTO_FETCH, PROTO_STREAM_ALL, 0);
        buf[1] = 'B';
        assert_int_equal(decode(buf, sizeof(buf)), -EBADMSG);
        /* Bad magic wins over a bad version: it is not our protocol at all. */
        valid_record(buf, PROTO_FETCH, PROTO_STREAM_ALL, 0);
        buf[0] = 0;
        buf[2] = 2;
        assert_int_equal(decode(buf, sizeof(buf)), -EBADMSG);
}

static void test_decode_version(void **state) {
        uint8_t buf[PROTO_MESSAGE_SIZE];
        (void) state;

        valid_record(buf, PROTO_FETCH, PROTO_STREAM_ALL, 0);
        buf[2] = 2;
        assert_int_equal(decode(buf, sizeof(buf)), -EPROTONOSUPPORT);
        buf[2] = 0;
        assert_int_equal(decode(buf, sizeof(buf)), -EPROTONOSUPPORT);
        buf[2] = 0xFF;
        assert_int_equal(decode(buf, sizeof(buf)), -EPROTONOSUPPORT);
}

static void test_decode_reserved(void **state) {
        uint8_t buf[PROTO_MESSAGE_SIZE];
        (void) state;

        for (int i = 6; i < 8; i++) {
                valid_record(buf, PROTO_FETCH, PROTO_STREAM_ALL, 0);
                buf[i] = 1;
                assert_int_equal(decode(buf, sizeof(buf)), -EBADMSG);
                buf[i] = 0x80;
                assert_int_equal(decode(buf, sizeof(buf)), -EBADMSG);
        }
}

static void test_decode_unknown_type(void **state) {
        uint8_t buf[PROTO_MESSAGE_SIZE];
        (void) state;

        valid_record(buf, 0, 0, 0);
        assert_int_equal(decode(buf, sizeof(buf)), -EBADMSG);
        for (unsigned t = 6; t <= 0xFF; t++) {
                valid_record(buf, (uint8_t) t, PROTO_STREAM_STDOUT, 0);
                assert_int_equal(decode(buf, sizeof(buf)), -EBADMSG);
                valid_record(buf, (uint8_t) t, 0, 0);
                assert_int_equal(decode(buf, sizeof(buf)), -EBADMSG);
        }
}

static void test_decode_stream_masks(void **state) {
        static const uint8_t with_streams[] = {PROTO_DEPOSIT, PROTO_FETCH, PROTO_FDS};
        uint8_t buf[PROTO_MESSAGE_SIZE];
        (void) state;

        for (size_t i = 0; i < sizeof(with_streams); i++) {
                valid_record(buf, with_streams[i], 0, 0);
                assert_int_equal(decode(buf, sizeof(buf)), -EBADMSG);
                for (unsigned s = PROTO_STREAM_ALL + 1; s <= 0xFF; s++) {
                        valid_record(buf, with_streams[i], (uint8_t) s, 0);
                        assert_int_equal(decode(buf, sizeof(buf)), -EBADMSG);
                }
        }
        /* Only the defined bits, for every type. */
        valid_record(buf, PROTO_OK, 1 << 2, 0);
        assert_int_equal(decode(buf, sizeof(buf)), -EBADMSG);
        valid_record(buf, PROTO_ERROR, 1 << 7, EPERM);
        assert_int_equal(decode(buf, sizeof(buf)), -EBADMSG);
        /* ERROR carries no streams at all. */
        valid_record(buf, PROTO_ERROR, PROTO_STREAM_STDOUT, EPERM);
        assert_int_equal(decode(buf, sizeof(buf)), -EBADMSG);
}

static void test_decode_error_field(void **state) {
        static const uint8_t with_streams[] = {PROTO_DEPOSIT, PROTO_FETCH, PROTO_FDS};
        uint8_t buf[PROTO_MESSAGE_SIZE];
        (void) state;

        valid_record(buf, PROTO_ERROR, 0, 0);
        assert_int_equal(decode(buf, sizeof(buf)), -EBADMSG);
        for (size_t i = 0; i < sizeof(with_streams); i++) {
                valid_record(buf, with_streams[i], PROTO_STREAM_ALL, EPERM);
                assert_int_equal(decode(buf, sizeof(buf)), -EBADMSG);
                valid_record(buf, with_streams[i], PROTO_STREAM_STDOUT, 1);
                assert_int_equal(decode(buf, sizeof(buf)), -EBADMSG);
        }
        valid_record(buf, PROTO_OK, 0, EIO);
        assert_int_equal(decode(buf, sizeof(buf)), -EBADMSG);
}

static void test_encode_rejects_invalid(void **state) {
        static const struct proto_message bad[] = {
                {.type = 0, .streams = 0, .error = 0},
                {.type = 6, .streams = PROTO_STREAM_ALL, .error = 0},
                {.type = 0xFF, .streams = 0, .error = 0},
                {.type = PROTO_DEPOSIT, .streams = 0, .error = 0},
                {.type = PROTO_DEPOSIT, .streams = PROTO_STREAM_ALL, .error = EPERM},
                {.type = PROTO_DEPOSIT, .streams = 1 << 2, .error = 0},
                {.type = PROTO_FETCH, .streams = 0, .error = 0},
                {.type = PROTO_FETCH, .streams = 0xFF, .error = 0},
                {.type = PROTO_FDS, .streams = 0, .error = 0},
                {.type = PROTO_ERROR, .streams = 0, .error = 0},
                {.type = PROTO_ERROR, .streams = PROTO_STREAM_STDOUT, .error = EPERM},
                {.type = PROTO_OK, .streams = 0, .error = EPERM},
                {.type = PROTO_OK, .streams = 1 << 3, .error = 0},
        };
        uint8_t buf[PROTO_MESSAGE_SIZE], untouched[PROTO_MESSAGE_SIZE];
        (void) state;

        memset(untouched, 0x5A, sizeof(untouched));
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                memcpy(buf, untouched, sizeof(buf));
                assert_int_equal(proto_encode(&bad[i], buf, sizeof(buf)), -EINVAL);
                /* Nothing invalid is ever written. */
                assert_memory_equal(buf, untouched, sizeof(buf));
        }
}

static void test_encode_small_buffer(void **state) {
        const struct proto_message m = {.type = PROTO_FETCH, .streams = PROTO_STREAM_ALL};
        uint8_t buf[PROTO_MESSAGE_SIZE + 4];
        (void) state;

        memset(buf, 0x5A, sizeof(buf));
        assert_int_equal(proto_encode(&m, buf, 0), -EINVAL);
        assert_int_equal(proto_encode(&m, buf, PROTO_MESSAGE_SIZE - 1), -EINVAL);
        for (size_t i = 0; i < sizeof(buf); i++)
                assert_int_equal(buf[i], 0x5A);
        /* A larger buffer is fine; only the message's bytes are written. */
        assert_int_equal(proto_encode(&m, buf, sizeof(buf)), PROTO_MESSAGE_SIZE);
        for (size_t i = PROTO_MESSAGE_SIZE; i < sizeof(buf); i++)
                assert_int_equal(buf[i], 0x5A);
}

static void test_stream_helpers(void **state) {
        (void) state;

        assert_int_equal(proto_stream_count(0), 0);
        assert_int_equal(proto_stream_count(PROTO_STREAM_STDOUT), 1);
        assert_int_equal(proto_stream_count(PROTO_STREAM_STDERR), 1);
        assert_int_equal(proto_stream_count(PROTO_STREAM_ALL), 2);
        assert_int_equal(proto_stream_count(0xFF), 2);
        assert_string_equal(proto_stream_name(PROTO_STREAM_STDOUT), "stdout");
        assert_string_equal(proto_stream_name(PROTO_STREAM_STDERR), "stderr");
        assert_null(proto_stream_name(0));
        assert_null(proto_stream_name(PROTO_STREAM_ALL));
        assert_null(proto_stream_name(1 << 2));
}

/* Every one of the 2^24 values of bytes 3-5 either decodes and re-encodes to the same record, or
 * is rejected by both directions. */
static void test_exhaustive_consistency(void **state) {
        uint8_t buf[PROTO_MESSAGE_SIZE], again[PROTO_MESSAGE_SIZE];
        unsigned accepted = 0;
        (void) state;

        for (unsigned t = 0; t < 256; t++)
                for (unsigned s = 0; s < 256; s++)
                        for (unsigned e = 0; e < 256; e++) {
                                struct proto_message m = {.type = (uint8_t) t,
                                                          .streams = (uint8_t) s,
                                                          .error = (uint8_t) e};
                                int r, w;

                                valid_record(buf, (uint8_t) t, (uint8_t) s, (uint8_t) e);
                                r = proto_decode(buf, sizeof(buf), &m);
                                w = proto_encode(&m, again, sizeof(again));
                                if (r == 0) {
                                        accepted++;
                                        assert_int_equal(w, PROTO_MESSAGE_SIZE);
                                        assert_memory_equal(buf, again, sizeof(buf));
                                } else {
                                        assert_int_equal(r, -EBADMSG);
                                        assert_int_equal(w, -EINVAL);
                                }
                        }
        /* 3 types x 3 masks, 255 errors, 4 OK masks. */
        assert_int_equal(accepted, 3 * 3 + 255 + 4);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roundtrip_all_valid),
                cmocka_unit_test(test_decode_wrong_size),
                cmocka_unit_test(test_decode_bad_magic),
                cmocka_unit_test(test_decode_version),
                cmocka_unit_test(test_decode_reserved),
                cmocka_unit_test(test_decode_unknown_type),
                cmocka_unit_test(test_decode_stream_masks),
                cmocka_unit_test(test_decode_error_field),
                cmocka_unit_test(test_encode_rejects_invalid),
                cmocka_unit_test(test_encode_small_buffer),
                cmocka_unit_test(test_stream_helpers),
                cmocka_unit_test(test_exhaustive_consistency),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
