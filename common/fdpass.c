/* SPDX-License-Identifier: MIT */
#include "fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "macros.h"

/* Room for more fds than the protocol ever carries, so extra ones are received and closed
 * instead of being silently dropped by the kernel with MSG_CTRUNC (which would leak nothing,
 * but would hide a misbehaving peer). */
#define FDPASS_MAX_RECV_FDS 16

int fdpass_send(int sock, const struct proto_message *m, const int *fds, size_t n_fds, int flags) {
        uint8_t buf[PROTO_MESSAGE_SIZE];
        union {
                struct cmsghdr cmsghdr;
                uint8_t buf[CMSG_SPACE(sizeof(int) * PROTO_MAX_FDS)];
        } control;
        struct iovec iov;
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n;
        int r;

        if (n_fds > PROTO_MAX_FDS)
                return -EINVAL;
        /* The receiver rejects a mismatch; refuse to send one. */
        if ((m->type == PROTO_DEPOSIT || m->type == PROTO_FDS)
                    ? n_fds != proto_stream_count(m->streams)
                    : n_fds != 0)
                return -EINVAL;

        r = proto_encode(m, buf, sizeof(buf));
        if (r < 0)
                return r;
        iov = (struct iovec){.iov_base = buf, .iov_len = (size_t) r};

        if (n_fds > 0) {
                struct cmsghdr *c;

                memset(&control, 0, sizeof(control));
                mh.msg_control = &control;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
        }

        n = sendmsg(sock, &mh, flags);
        if (n < 0)
                return -errno;
        if ((size_t) n != iov.iov_len)
                return -EMSGSIZE;
        return 0;
}

int fdpass_send_error(int sock, int err) {
        struct proto_message m = {.type = PROTO_ERROR, .error = (uint8_t) (err > 255 ? EIO : err)};

        return fdpass_send(sock, &m, NULL, 0, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void close_many(const int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                safe_close(fds[i]);
}

int fdpass_recv(int sock, struct proto_message *ret, int *ret_fds, size_t ret_fds_max,
                size_t *ret_n_fds, int flags) {
        uint8_t buf[PROTO_RECV_SIZE];
        union {
                struct cmsghdr cmsghdr;
                uint8_t buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX_RECV_FDS)];
        } control;
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = &control,
                .msg_controllen = sizeof(control),
        };
        int fds[FDPASS_MAX_RECV_FDS];
        size_t n_fds = 0;
        struct proto_message m;
        ssize_t n;
        int r;

        n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
        if (n < 0)
                return -errno;

        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                size_t k;

                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                if (k > FDPASS_MAX_RECV_FDS - n_fds)
                        k = FDPASS_MAX_RECV_FDS - n_fds;
                memcpy(fds + n_fds, CMSG_DATA(c), k * sizeof(int));
                n_fds += k;
        }

        if (n == 0 && n_fds == 0)
                return -ECONNRESET;
        if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
                close_many(fds, n_fds);
                return -EBADMSG;
        }

        r = proto_decode(buf, (size_t) n, &m);
        if (r < 0) {
                close_many(fds, n_fds);
                return r;
        }

        /* fds only ever travel with DEPOSIT and FDS, exactly one per stream in the mask. */
        if ((m.type == PROTO_DEPOSIT || m.type == PROTO_FDS)
                    ? n_fds != proto_stream_count(m.streams)
                    : n_fds != 0) {
                close_many(fds, n_fds);
                return -EBADMSG;
        }
        if (n_fds > ret_fds_max) {
                close_many(fds, n_fds);
                return -EBADMSG;
        }

        memcpy(ret_fds, fds, n_fds * sizeof(int));
        *ret_n_fds = n_fds;
        *ret = m;
        return 0;
}
