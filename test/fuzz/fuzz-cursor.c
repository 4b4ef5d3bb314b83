/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the cursor file's record: whatever cursor_record_parse() accepts must
 * format back to the same record (up to the spelling of the checksum, which strtoul() reads
 * case-insensitively), and any string cursor_record_format() accepts must parse back. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cursor_file.h"

#define MAGIC_LEN (sizeof(CURSOR_FILE_MAGIC) - 1)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_parsed(const uint8_t *data, size_t size, const char *cursor) {
        char buf[CURSOR_FILE_SIZE], *again = NULL;
        size_t n = strlen(cursor), cmp = size < CURSOR_FILE_SIZE ? size : CURSOR_FILE_SIZE;

        if (n == 0 || n > CURSOR_MAX)
                __builtin_trap();
        if (cursor_record_format(cursor, buf) != 0)
                __builtin_trap();
        /* Same bytes as the input, checksum digits aside; the rest of a longer input is '\n'. */
        if (memcmp(buf, data, MAGIC_LEN) != 0 ||
            memcmp(buf + MAGIC_LEN + 8, data + MAGIC_LEN + 8, cmp - MAGIC_LEN - 8) != 0)
                __builtin_trap();
        for (size_t i = cmp; i < size; i++)
                if (data[i] != '\n')
                        __builtin_trap();
        if (cursor_record_parse(buf, sizeof(buf), &again) != 0 || strcmp(again, cursor) != 0)
                __builtin_trap();
        free(again);
}

static void check_format(const uint8_t *data, size_t size) {
        char cursor[CURSOR_FILE_SIZE + 1], buf[CURSOR_FILE_SIZE], *again = NULL;
        size_t n = size < CURSOR_FILE_SIZE ? size : CURSOR_FILE_SIZE;
        int r;

        memcpy(cursor, data, n);
        cursor[n] = '\0';
        r = cursor_record_format(cursor, buf);
        if (r < 0) {
                if (r != -EINVAL && r != -E2BIG)
                        __builtin_trap();
                if (r == -E2BIG && strlen(cursor) <= CURSOR_MAX)
                        __builtin_trap();
                return;
        }
        if (cursor_record_parse(buf, sizeof(buf), &again) != 0 || strcmp(again, cursor) != 0)
                __builtin_trap();
        free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *cursor = NULL;
        int r;

        r = cursor_record_parse((const char *) data, size, &cursor);
        if (r == 0) {
                check_parsed(data, size, cursor);
                free(cursor);
        } else if (r != -EBADMSG || cursor) {
                __builtin_trap();
        }

        check_format(data, size);
        return 0;
}
