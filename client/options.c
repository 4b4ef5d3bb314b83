/* SPDX-License-Identifier: MIT */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_client.h"
#include "log.h"
#include "macros.h"

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
               "  -o --output=MODE       Output format, as journalctl's: json (default),\n"
               "                         json-pretty, json-seq, json-sse, export, short,\n"
               "                         short-full, short-iso, short-iso-precise, short-precise,\n"
               "                         short-monotonic, short-delta, short-unix, with-unit,\n"
               "                         cat, verbose (-o help lists them)\n"
               "     --output-fields=LIST  Only these fields (comma-separated) in json*, export,\n"
               "                         verbose and cat (json and export keep __CURSOR etc.)\n"
               "  -a --all               Print values of any size and unprintable ones (json: no\n"
               "                         null for >= 4096 bytes; text modes: no [blob data])\n"
               "     --utc               Show times in UTC\n"
               "     --no-hostname       Leave out the hostname in the short modes\n"
               "  -q --quiet             No \"-- Boot ID --\" lines between boots\n"
               "  -b --boot[=ID]         Only the current boot (or boot ID)\n"
               "  -n --lines[=N]         Start with the last N entries (default 10 with -n);\n"
               "                         without -n every entry is forwarded, also with -f\n"
               "     --no-tail           Forward every entry even with -n\n"
               "     --since-pid1        Without a saved cursor, start at the first entry logged\n"
               "                         after PID 1 started (containers share the host's boot ID:\n"
               "                         -b alone also holds earlier containers' entries)\n"
               "  -D --directory=DIR     Read the journal files in DIR\n"
               "     --file=PATH         Read this journal file (repeatable)\n"
               "     --cursor-file=FILE  Resume after the cursor in FILE and keep it updated\n"
               "     --to=WHERE          broker, stdout or auto (default): broker when our stdout\n"
               "                         is the journal, i.e. when running as a service\n"
               "     --pipe-writes=HOW   atomic: writes to a pipe of at most PIPE_BUF (4096)\n"
               "                         bytes of whole entries, so that other writers on the\n"
               "                         same pipe interleave only between entries; large: up\n"
               "                         to 64 KiB (fewer wake-ups of the reader); auto\n"
               "                         (default): atomic on the container's stdout (--to=broker)\n"
               "                         and with --follow, large otherwise\n"
               "     --broker-socket=PATH  Broker socket (default $%s or %s)\n"
               "     --stderr-priority=LEVEL  Entries of LEVEL or more severe go to the\n"
               "                         container's stderr, the rest to stdout\n"
               "\n"
               "Filters (as journalctl's):\n"
               "  -u --unit=UNIT         Entries of this unit (repeatable)\n"
               "  -t --identifier=ID     Entries with this SYSLOG_IDENTIFIER (repeatable)\n"
               "  -T --exclude-identifier=ID  Leave out this SYSLOG_IDENTIFIER (repeatable)\n"
               "  -p --priority=RANGE    LEVEL (0..LEVEL) or FROM..TO; emerg..debug or 0..7\n"
               "     --facility=LIST     Syslog facilities (names or numbers, comma-separated)\n"
               "  -S --since=TIME        Entries not older than TIME\n"
               "  -U --until=TIME        Entries not newer than TIME\n"
               "  FIELD=VALUE            Matches; the same field ORs, different fields AND; '+'\n"
               "                         between groups ORs them\n"
               "\n"
               "Environment (used when the option is not given; invalid values are reported and\n"
               "the default is used): JOURNALAGENT_OUTPUT (-o), JOURNALAGENT_OUTPUT_FIELDS,\n"
               "JOURNALAGENT_PRIORITY (-p), JOURNALAGENT_STDERR_PRIORITY.\n"
               "\n"
               "Exit status: 0 done; 1 failure; 2 bad usage; 66 the broker holds no stdout;\n"
               "69 no broker listening; 74 the container's log reader is gone; 77 not permitted.\n",
               BROKER_SOCKET_ENV, BROKER_SOCKET_DEFAULT);
}

void options_free(struct options *o) {
        filters_free(&o->filters);
        free(o->files);
        free(o->matches);
        for (char **f = o->output_fields; f && *f; f++)
                free(*f);
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

/* Adds the comma-separated fields of list to *fields, each once (journalctl accumulates repeated
 * --output-fields and ignores empty names). */
static int add_fields(const char *list, char ***fields) {
        _cleanup_free_ char *copy = strdup(list);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                bool seen = false;
                char *dup;

                for (char **f = *fields; f && *f && !seen; f++)
                        seen = strcmp(*f, t) == 0;
                if (seen)
                        continue;
                dup = strdup(t);
                if (!dup || strv_push(fields, dup) < 0) {
                        free(dup);
                        return -ENOMEM;
                }
        }
        return 0;
}

static void list_output_modes(void) {
        for (int m = 0; m < _OUTPUT_MODE_MAX; m++)
                puts(output_mode_to_string(m));
}

/* The keywords of --to and --pipe-writes, in the order of their enums. */
static const char *const target_names[] = {
        [TARGET_AUTO] = "auto", [TARGET_BROKER] = "broker", [TARGET_STDOUT] = "stdout", NULL};
static const char *const pipe_writes_names[] = {[PIPE_WRITES_AUTO] = "auto",
                                                [PIPE_WRITES_ATOMIC] = "atomic",
                                                [PIPE_WRITES_LARGE] = "large",
                                                NULL};

/* The index of s in the NULL-terminated names, or -1. */
static int keyword_index(const char *s, const char *const *names) {
        for (int i = 0; names[i]; i++)
                if (strcmp(s, names[i]) == 0)
                        return i;
        return -1;
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

/* Settings from the container's environment (`docker run -e`, reaching the unit through
 * PassEnvironment=), for what the command line left unset. An invalid value is reported, in the
 * journal and so in the container log, and the default is kept: never silence. */
static void options_apply_environment(struct options *o) {
        const char *e;
        int r;

        e = getenv("JOURNALAGENT_OUTPUT");
        if (!o->set_output && e && *e) {
                r = output_mode_from_string(e);
                if (r < 0)
                        log_warning("Invalid JOURNALAGENT_OUTPUT=%s (expected a journalctl output "
                                    "mode such as json, short-iso, cat; journalagent -o help lists "
                                    "them), using json.",
                                    e);
                else
                        o->output = (enum output_mode) r;
        }

        e = getenv("JOURNALAGENT_OUTPUT_FIELDS");
        if (!o->set_output_fields && e && *e && add_fields(e, &o->output_fields) < 0)
                log_warning("Invalid JOURNALAGENT_OUTPUT_FIELDS=%s, printing all fields.", e);

        e = getenv("JOURNALAGENT_PRIORITY");
        if (!o->set_priority && e && *e && filters_parse_priority(&o->filters, e) < 0)
                log_warning("Invalid JOURNALAGENT_PRIORITY=%s (expected emerg..debug, 0-7 or "
                            "FROM..TO), forwarding every priority.",
                            e);

        e = getenv("JOURNALAGENT_STDERR_PRIORITY");
        if (!o->set_stderr_priority && e && *e) {
                r = strcmp(e, "none") == 0 ? -1 : priority_from_string(e);
                if (r < 0 && strcmp(e, "none") != 0)
                        log_warning("Invalid JOURNALAGENT_STDERR_PRIORITY=%s (expected emerg, "
                                    "alert, crit, err, warning, notice, info, debug, 0-7 or none), "
                                    "writing everything to stdout.",
                                    e);
                else
                        o->stderr_priority = r;
        }
}

int options_parse(int argc, char *argv[], struct options *o) {
        enum {
                ARG_VERSION = 0x100,
                ARG_FILE,
                ARG_CURSOR_FILE,
                ARG_NO_TAIL,
                ARG_OUTPUT_FIELDS,
                ARG_UTC,
                ARG_NO_HOSTNAME,
                ARG_TO,
                ARG_BROKER_SOCKET,
                ARG_STDERR_PRIORITY,
                ARG_FACILITY,
                ARG_SINCE_PID1,
                ARG_PIPE_WRITES,
        };
        static const struct option long_options[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {"follow", no_argument, NULL, 'f'},
                {"output", required_argument, NULL, 'o'},
                {"output-fields", required_argument, NULL, ARG_OUTPUT_FIELDS},
                {"all", no_argument, NULL, 'a'},
                {"utc", no_argument, NULL, ARG_UTC},
                {"no-hostname", no_argument, NULL, ARG_NO_HOSTNAME},
                {"quiet", no_argument, NULL, 'q'},
                {"boot", optional_argument, NULL, 'b'},
                {"lines", optional_argument, NULL, 'n'},
                {"no-tail", no_argument, NULL, ARG_NO_TAIL},
                {"since-pid1", no_argument, NULL, ARG_SINCE_PID1},
                {"directory", required_argument, NULL, 'D'},
                {"file", required_argument, NULL, ARG_FILE},
                {"cursor-file", required_argument, NULL, ARG_CURSOR_FILE},
                {"to", required_argument, NULL, ARG_TO},
                {"broker-socket", required_argument, NULL, ARG_BROKER_SOCKET},
                {"pipe-writes", required_argument, NULL, ARG_PIPE_WRITES},
                {"stderr-priority", required_argument, NULL, ARG_STDERR_PRIORITY},
                {"unit", required_argument, NULL, 'u'},
                {"identifier", required_argument, NULL, 't'},
                {"exclude-identifier", required_argument, NULL, 'T'},
                {"priority", required_argument, NULL, 'p'},
                {"facility", required_argument, NULL, ARG_FACILITY},
                {"since", required_argument, NULL, 'S'},
                {"until", required_argument, NULL, 'U'},
                {},
        };
        const char *arg;
        int c, r;

        *o = (struct options){
                .lines = -1,
                .output = OUTPUT_JSON,
                .target = TARGET_AUTO,
                .filters = FILTERS_INIT,
                .stderr_priority = -1,
        };
        o->broker_socket = broker_socket_path();

        while ((c = getopt_long(argc, argv, "hfo:aqb::n::D:u:t:T:p:S:U:", long_options, NULL)) >= 0)
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
                        if (strcmp(optarg, "help") == 0) {
                                list_output_modes();
                                return 0;
                        }
                        r = output_mode_from_string(optarg);
                        if (r < 0)
                                return log_error_errno(EINVAL,
                                                       "Unknown output format '%s' (-o help lists "
                                                       "them).",
                                                       optarg);
                        o->output = (enum output_mode) r;
                        o->set_output = true;
                        break;
                case ARG_OUTPUT_FIELDS:
                        if (add_fields(optarg, &o->output_fields) < 0)
                                return -ENOMEM;
                        o->set_output_fields = true;
                        break;
                case ARG_UTC:
                        o->utc = true;
                        break;
                case ARG_NO_HOSTNAME:
                        o->no_hostname = true;
                        break;
                case 'q':
                        o->quiet = true;
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
                case ARG_SINCE_PID1:
                        o->since_pid1 = true;
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
                        r = keyword_index(optarg, target_names);
                        if (r < 0)
                                return log_error_errno(EINVAL,
                                                       "Invalid --to=%s: expected broker, "
                                                       "stdout or auto.",
                                                       optarg);
                        o->target = (enum output_target) r;
                        break;
                case ARG_BROKER_SOCKET:
                        o->broker_socket = optarg;
                        break;
                case ARG_PIPE_WRITES:
                        r = keyword_index(optarg, pipe_writes_names);
                        if (r < 0)
                                return log_error_errno(EINVAL,
                                                       "Invalid --pipe-writes=%s: expected "
                                                       "atomic, large or auto.",
                                                       optarg);
                        o->pipe_writes = (enum pipe_writes) r;
                        break;
                case ARG_STDERR_PRIORITY:
                        o->stderr_priority = priority_from_string(optarg);
                        if (o->stderr_priority < 0)
                                return log_error_errno(EINVAL,
                                                       "Invalid --stderr-priority=%s: expected "
                                                       "emerg, alert, crit, err, warning, notice, "
                                                       "info, debug or 0-7.",
                                                       optarg);
                        o->set_stderr_priority = true;
                        break;
                case 'u':
                        if (filters_add_unit(&o->filters, optarg) < 0)
                                return log_error_errno(EINVAL, "Invalid unit '%s'.", optarg);
                        break;
                case 't':
                case 'T':
                        if (filters_add_identifier(&o->filters, optarg, c == 'T') < 0)
                                return -ENOMEM;
                        break;
                case 'p':
                        if (filters_parse_priority(&o->filters, optarg) < 0)
                                return log_error_errno(EINVAL,
                                                       "Invalid -p/--priority=%s: expected a "
                                                       "level (emerg..debug, 0-7) or FROM..TO.",
                                                       optarg);
                        o->set_priority = true;
                        break;
                case ARG_FACILITY:
                        if (filters_parse_facility(&o->filters, optarg) < 0)
                                return log_error_errno(EINVAL, "Invalid --facility=%s.", optarg);
                        break;
                case 'S':
                case 'U':
                        if (filters_parse_time(optarg, c == 'S' ? &o->filters.since
                                                                : &o->filters.until) < 0)
                                return log_error_errno(EINVAL,
                                                       "Invalid %s=%s: expected e.g. "
                                                       "\"2026-12-03 10:00:00\", today, "
                                                       "yesterday, -1h, @1700000000.",
                                                       c == 'S' ? "--since" : "--until", optarg);
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
        options_apply_environment(o);
        return 1;
}
