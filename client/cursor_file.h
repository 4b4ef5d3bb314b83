/* SPDX-License-Identifier: MIT */
/*
 * The forwarder's saved position: the cursor of the last entry whose write completed. One fixed-
 * size record, rewritten in place with a single pwrite() after every write, so a crash at any
 * moment leaves either the old or the new record, and a checksum tells a damaged one apart.
 *
 *   "journalagent-cursor 1 <fnv1a32 of cursor, 8 hex> <cursor>\n", padded with '\n' to
 *   CURSOR_FILE_SIZE bytes.
 */
#pragma once

#include <stddef.h>

#define CURSOR_FILE_SIZE  512
#define CURSOR_MAX        (CURSOR_FILE_SIZE - 64)
#define CURSOR_FILE_MAGIC "journalagent-cursor 1 "

struct cursor_file {
        int fd;
        char *path;
        int sized; /* set once the file is exactly one record long */
};

/* Opens (creating, mode 0600) the file. Returns 0 or -errno. */
int cursor_file_open(struct cursor_file *c, const char *path);
void cursor_file_close(struct cursor_file *c);

/* Reads the saved cursor. Returns 1 and a malloc'd *ret, 0 when nothing was saved yet (empty
 * file), -EBADMSG for a damaged or foreign file, other -errno for I/O errors. */
int cursor_file_load(struct cursor_file *c, char **ret);

/* Saves cursor. Returns 0 or -errno (-E2BIG for a cursor longer than CURSOR_MAX). */
int cursor_file_save(struct cursor_file *c, const char *cursor);

/* Pure parts, exposed for tests and the fuzzer. */
int cursor_record_parse(const char *buf, size_t size, char **ret);
int cursor_record_format(const char *cursor, char buf[CURSOR_FILE_SIZE]);
