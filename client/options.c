/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_client.h"
#include "log.h"
#include "options.h"

static void help(void) {
        printf("Usage: journalagent [OPTIONS...] [FIELD=VALUE...]\n"
               "\n"
               "Forwards journal entries, one line each in journalctl's format, to the container's\n"
               "stdout (fetched from journalagent-broker) or to its own stdout. Saves its position\n"
               "with --cursor-file, so a restarted forwarder loses nothing and repeats at most the\n"
               "last unconfirmed write.\n"
               "\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "  -f --follow            Keep forwarding new entries\n"
               "  -o --output=MODE       Output format: json (default)\n"
               "     --output-fields=LIST  Only these fields (comma-separated), plus __CURSOR etc.\n"
               "  -a --all               Print values of any size (no null for >= 4096 bytes)\n"
               "  -b --boot[=ID]         Only the current boot (or boot ID)\n"
               "  -n --lines[=N]         Start with the last N entries (default 10 with -n);\n"
               "                         without -n every entry is forwarded, also with -f\n"
               "     --no-tail           Forward every entry even with -n\n"
               "  -D --directory=DIR     Read the journal files in DIR\n"
               "     --file=PATH         Read this journal file (repeatable)\n"
               "     --cursor-file=FILE  Resume after the cursor in FILE and keep it updated\n"
               "     --to=WHERE          broker, stdout or auto (default): broker when our stdout\n"
               "                         is the journal, i.e. when running as a service\n"
               "     --broker-socket=PATH  Broker socket (default $%s or %s)\n"
               "\n"
               "Exit status: 0 done; 1 failure; 2 bad usage; 66 the broker holds no stdout;\n"
               "69 no broker listening; 74 the container's log reader is gone; 77 not permitted.\n",
               BROKER_SOCKET_ENV, BROKER_SOCKET_DEFAULT);
}

void options_free(struct options *o) {
        free(o->files);
        free(o->matches);
        if (o->output_fields)
                free(o->output_fields[0]);
        free(o->output_fields);
}

static int strv_push(char ***v, char *s) {
        size_t n = 0;
        char **p;

        while (*v && (*v)[n])
                n++;
        p = realloc(*v, (n + 2) * sizeof(char *));
        if (!p)
                return -ENOMEM;
        p[n] = s;
        p[n + 1] = NULL;
        *v = p;
        return 0;
}

static int split_fields(const char *list, char ***ret) {
        char *copy = strdup(list), *save = NULL;
        char **v = NULL;

        if (!copy)
                return -ENOMEM;
        /* v[0] points at the start of copy, so freeing v[0] frees every field. */
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (strv_push(&v, t) < 0)
                        return -ENOMEM;
        if (!v) {
                free(copy);
                return -EINVAL;
        }
        if (v[0] != copy) {
                /* A leading comma: keep ownership simple. */
                memmove(copy, v[0], strlen(v[0]) + 1);
                v[0] = copy;
        }
        *ret = v;
        return 0;
}

/* journalctl accepts "-n 5" as well as "-n5": a separate word is taken if it looks right. */
static const char *optional_arg(int argc, char *argv[], int (*looks_right)(const char *)) {
        if (optarg)
                return optarg;
        if (optind < argc && argv[optind][0] != '-' && looks_right(argv[optind]))
                return argv[optind++];
        return NULL;
}

static int is_number(const char *s) {
        return *s && strspn(s, "0123456789") == strlen(s);
}

static int is_boot_id(const char *s) {
        return strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

static int is_boot_arg(const char *s) {
        return is_boot_id(s) || strcmp(s, "0") == 0;
}

static int parse_lines(const char *s, long *ret) {
        char *end;
        long v;

        if (!s) {
                *ret = 10;
                return 0;
        }
        if (strcmp(s, "all") == 0) {
                *ret = -1;
                return 0;
        }
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v < 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

int options_parse(int argc, char *argv[], struct options *o) {
        enum {
                ARG_VERSION = 0x100,
                ARG_FILE,
                ARG_CURSOR_FILE,
                ARG_NO_TAIL,
                ARG_OUTPUT_FIELDS,
                ARG_TO,
                ARG_BROKER_SOCKET,
        };
        static const struct option long_options[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {"follow", no_argument, NULL, 'f'},
                {"output", required_argument, NULL, 'o'},
                {"output-fields", required_argument, NULL, ARG_OUTPUT_FIELDS},
                {"all", no_argument, NULL, 'a'},
                {"boot", optional_argument, NULL, 'b'},
                {"lines", optional_argument, NULL, 'n'},
                {"no-tail", no_argument, NULL, ARG_NO_TAIL},
                {"directory", required_argument, NULL, 'D'},
                {"file", required_argument, NULL, ARG_FILE},
                {"cursor-file", required_argument, NULL, ARG_CURSOR_FILE},
                {"to", required_argument, NULL, ARG_TO},
                {"broker-socket", required_argument, NULL, ARG_BROKER_SOCKET},
                {},
        };
        const char *arg;
        int c;

        *o = (struct options){.lines = -1, .output = "json", .target = TARGET_AUTO};
        o->broker_socket = broker_socket_path();

        while ((c = getopt_long(argc, argv, "hfo:ab::n::D:", long_options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("journalagent %s\n", VERSION);
                        return 0;
                case 'f':
                        o->follow = true;
                        break;
                case 'o':
                        if (strcmp(optarg, "json") != 0)
                                return log_error_errno(EINVAL,
                                                       "Output mode '%s' is not supported; "
                                                       "supported: json.",
                                                       optarg);
                        o->output = optarg;
                        break;
                case ARG_OUTPUT_FIELDS:
                        if (split_fields(optarg, &o->output_fields) < 0)
                                return log_error_errno(EINVAL, "Invalid --output-fields=%s.",
                                                       optarg);
                        break;
                case 'a':
                        o->all = true;
                        break;
                case 'b':
                        o->boot = true;
                        arg = optional_arg(argc, argv, is_boot_arg);
                        if (arg && !is_boot_arg(arg))
                                return log_error_errno(EINVAL,
                                                       "Unsupported -b argument '%s': give a "
                                                       "32-character boot ID, 0, or nothing for "
                                                       "the current boot.",
                                                       arg);
                        o->boot_id = arg && is_boot_id(arg) ? arg : NULL;
                        break;
                case 'n':
                        arg = optional_arg(argc, argv, is_number);
                        if (parse_lines(arg, &o->lines) < 0)
                                return log_error_errno(EINVAL, "Invalid -n/--lines value '%s'.",
                                                       arg);
                        break;
                case ARG_NO_TAIL:
                        o->no_tail = true;
                        break;
                case 'D':
                        o->directory = optarg;
                        break;
                case ARG_FILE:
                        if (strv_push(&o->files, optarg) < 0)
                                return -ENOMEM;
                        break;
                case ARG_CURSOR_FILE:
                        o->cursor_file = optarg;
                        break;
                case ARG_TO:
                        if (strcmp(optarg, "broker") == 0)
                                o->target = TARGET_BROKER;
                        else if (strcmp(optarg, "stdout") == 0)
                                o->target = TARGET_STDOUT;
                        else if (strcmp(optarg, "auto") == 0)
                                o->target = TARGET_AUTO;
                        else
                                return log_error_errno(EINVAL, "Invalid --to=%s: expected broker, "
                                                               "stdout or auto.",
                                                       optarg);
                        break;
                case ARG_BROKER_SOCKET:
                        o->broker_socket = optarg;
                        break;
                case '?':
                        return -EINVAL;
                default:
                        abort();
                }

        if (o->directory && o->files)
                return log_error_errno(EINVAL, "-D/--directory and --file cannot be combined.");
        for (int i = optind; i < argc; i++) {
                if (strcmp(argv[i], "+") != 0 && !strchr(argv[i], '='))
                        return log_error_errno(EINVAL,
                                               "Invalid match '%s': expected FIELD=VALUE or '+'.",
                                               argv[i]);
                if (strv_push(&o->matches, argv[i]) < 0)
                        return -ENOMEM;
        }
        return 1;
}
