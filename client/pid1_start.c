/* SPDX-License-Identifier: MIT */
#include "pid1_start.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_usec(clockid_t clock) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

int pid1_start_monotonic_usec(uint64_t *ret) {
        char buf[1024], *p;
        unsigned long long start_ticks;
        uint64_t start_boottime, sleep_usec, tick_usec;
        long hz = sysconf(_SC_CLK_TCK);
        FILE *f;
        size_t n;

        f = fopen("/proc/1/stat", "re");
        if (!f)
                return -errno;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';

        /* Field 22, starttime; the command name (field 2) may hold spaces, so count from ')'. */
        p = strrchr(buf, ')');
        if (!p || hz <= 0)
                return -EBADMSG;
        for (int field = 2; field < 22; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EBADMSG;
        }
        if (sscanf(p + 1, "%llu", &start_ticks) != 1)
                return -EBADMSG;

        /* starttime counts on the boot-time clock, which also runs during suspend; the journal's
         * monotonic timestamps do not. One tick earlier covers the rounding. */
        tick_usec = 1000000ULL / (uint64_t) hz;
        start_boottime = (uint64_t) start_ticks * tick_usec;
        sleep_usec = now_usec(CLOCK_BOOTTIME) - now_usec(CLOCK_MONOTONIC);
        start_boottime = start_boottime > sleep_usec + tick_usec
                                 ? start_boottime - sleep_usec - tick_usec
                                 : 0;
        *ret = start_boottime;
        return 0;
}
