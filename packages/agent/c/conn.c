#include "conn.h"

#include "log.h"
#include "value.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* How often a closed port is checked for a new host, besides SIGIO (conn_host_event). */
#define RETRY_MS 20
#define READ_CHUNK (256 * 1024)
#define PORTS_DIR "/sys/class/virtio-ports"

void conn_init(conn_t *c, conn_mode_t mode, const char *target,
               void (*on_frame)(const uint8_t *, size_t), void (*on_down)(void)) {
    memset(c, 0, sizeof *c);
    c->mode = mode;
    c->target = target;
    c->rfd = c->wfd = -1;
    c->state = CS_DOWN;
    c->on_frame = on_frame;
    c->on_down = on_down;
}

static void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* /sys/class/virtio-ports/vportNpM/name holds the port's name; there is no
 * udev in the guest, so /dev/virtio-ports/NAME does not exist. */
static int find_port(const char *name, char *dev, size_t devlen) {
    DIR *d = opendir(PORTS_DIR);
    if (!d) return -1;
    struct dirent *e;
    int found = -1;
    while (found < 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[512], got[256];
        snprintf(path, sizeof path, PORTS_DIR "/%s/name", e->d_name);
        FILE *f = fopen(path, "re");
        if (!f) continue;
        if (fgets(got, sizeof got, f)) {
            got[strcspn(got, "\n")] = 0;
            if (strcmp(got, name) == 0) {
                snprintf(dev, devlen, "/dev/%s", e->d_name);
                found = 0;
            }
        }
        fclose(f);
    }
    closedir(d);
    return found;
}

/* Logs a "not yet" condition once, not on every retry. */
static void waiting(conn_t *c, const char *what, const char *name, int err) {
    if (c->quiet) return;
    c->quiet = 1;
    logmsg("%s %s%s%s", what, name, err ? ": " : "", err ? strerror(err) : "");
}

/* While a port waits for its host, the guest kernel signals SIGIO when the host
 * connects (and on every input later, hence only while waiting). */
static void notify_host_events(conn_t *c, int on) {
    if (c->mode != MODE_PORT) return;
    int fl = fcntl(c->rfd, F_GETFL);
    if (on) fcntl(c->rfd, F_SETOWN, getpid());
    fcntl(c->rfd, F_SETFL, on ? fl | O_ASYNC : fl & ~O_ASYNC);
}

static void went_up(conn_t *c) {
    notify_host_events(c, 0);
    c->state = CS_UP;
    c->quiet = 0;
    c->garbage = 0;
    logmsg("host connected");
}

static void try_open_port(conn_t *c) {
    char dev[300];
    if (find_port(c->target, dev, sizeof dev) < 0) {
        waiting(c, "waiting for a virtio-serial port in " PORTS_DIR " named", c->target, 0);
        return;
    }
    int fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        waiting(c, "cannot open yet:", dev, errno);
        return;
    }
    c->quiet = 0;
    logmsg("opened %s (port %s)", dev, c->target);
    c->rfd = c->wfd = fd;
    c->state = CS_WAIT_HOST;
    notify_host_events(c, 1);
}

static void try_connect_unix(conn_t *c) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(c->target) >= sizeof sa.sun_path) {
        logmsg("socket path too long: %s", c->target);
        exit(2);
    }
    strcpy(sa.sun_path, c->target);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        waiting(c, "cannot connect yet:", c->target, errno);
        if (fd >= 0) close(fd);
        return;
    }
    set_nonblock(fd);
    c->rfd = c->wfd = fd;
    went_up(c);
}

/* While the host side of a port is closed, poll() reports POLLHUP at once, so
 * the port is checked on a timer instead of being polled. */
static void check_host(conn_t *c) {
    struct pollfd p = {.fd = c->rfd, .events = POLLIN};
    if (poll(&p, 1, 0) == 1 && (p.revents & POLLHUP)) return;
    went_up(c);
}

static void conn_down(conn_t *c, const char *why) {
    logmsg("connection down: %s", why);
    c->on_down();
    buf_clear(&c->in);
    buf_clear(&c->out);
    if (c->mode == MODE_STDIO) {
        logmsg("stdin closed: exiting");
        exit(0);
    }
    /* Closing the port discards whatever the guest kernel still buffers; the
     * port is reopened right away and waits for the next host. */
    close(c->rfd);
    c->rfd = c->wfd = -1;
    c->state = CS_DOWN;
    c->retry_at = 0;
    c->write_errno = 0;
}

void conn_host_event(conn_t *c) {
    if (c->state == CS_WAIT_HOST) c->retry_at = 0;
}

void conn_prepare(conn_t *c, pollset_t *ps, int64_t now) {
    if (c->state == CS_UP && c->write_errno) conn_down(c, strerror(c->write_errno));
    if (c->state == CS_DOWN && now >= c->retry_at) {
        if (c->mode == MODE_PORT) try_open_port(c);
        else if (c->mode == MODE_UNIX) try_connect_unix(c);
        else {
            c->rfd = 0;
            c->wfd = 1;
            set_nonblock(0);
            set_nonblock(1);
            went_up(c);
        }
        if (c->state == CS_DOWN) c->retry_at = now + RETRY_MS;
    }
    if (c->state == CS_WAIT_HOST && now >= c->retry_at) {
        check_host(c);
        if (c->state == CS_WAIT_HOST) c->retry_at = now + RETRY_MS;
    }
    if (c->state != CS_UP) {
        pollset_wake_at(ps, c->retry_at, now);
        return;
    }
    short wants_out = conn_pending(c) ? POLLOUT : 0;
    if (c->rfd == c->wfd) {
        pollset_add(ps, c->rfd, POLLIN | wants_out, SLOT_CONN, 0);
    } else {
        pollset_add(ps, c->rfd, POLLIN, SLOT_CONN, 0);
        if (wants_out) pollset_add(ps, c->wfd, POLLOUT, SLOT_CONN, 1);
    }
}

static int is_magic_prefix(const uint8_t *p, size_t n) {
    return memcmp(p, FRAME_MAGIC, n < 4 ? n : 4) == 0;
}

static void end_garbage(conn_t *c) {
    if (!c->garbage) return;
    conn_notice(c, "skipped %zu bytes that were not a frame (bad magic); resynchronised", c->garbage);
    c->garbage = 0;
}

static void parse_frames(conn_t *c) {
    while (c->state == CS_UP && buf_size(&c->in) > 0) {
        const uint8_t *p = buf_head(&c->in);
        size_t avail = buf_size(&c->in);
        if (!is_magic_prefix(p, avail)) {
            size_t skip = 1;
            while (skip < avail && !is_magic_prefix(p + skip, avail - skip)) skip++;
            if (!c->garbage) logmsg("garbage on the connection: resynchronising on the frame magic");
            c->garbage += skip;
            buf_consume(&c->in, skip);
            continue;
        }
        if (avail < FRAME_HEADER) return;
        uint32_t len = get_u32(p + 4);
        if (len > MAX_FRAME) {
            end_garbage(c);
            conn_notice(c, "frame of %u bytes exceeds the limit of %u; skipped", len, MAX_FRAME);
            c->garbage = 0;
            buf_consume(&c->in, 1);
            continue;
        }
        if (avail < FRAME_HEADER + (size_t)len) {
            buf_reserve(&c->in, FRAME_HEADER + (size_t)len - avail);
            return;
        }
        end_garbage(c);
        c->on_frame(p + FRAME_HEADER, len);
        buf_consume(&c->in, FRAME_HEADER + (size_t)len);
    }
}

static void do_read(conn_t *c) {
    for (int rounds = 0; rounds < 8 && c->state == CS_UP; rounds++) {
        buf_reserve(&c->in, READ_CHUNK);
        ssize_t r = read(c->rfd, c->in.data + c->in.len, c->in.cap - c->in.len);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            conn_down(c, strerror(errno));
            return;
        }
        if (r == 0) {
            conn_down(c, "host closed the connection (EOF)");
            return;
        }
        size_t room = c->in.cap - c->in.len;
        c->in.len += r;
        parse_frames(c);
        /* a read that did not fill the buffer took all there was: poll says
         * when more comes, with no read that only returns EAGAIN */
        if ((size_t)r < room) break;
    }
}

static void do_write(conn_t *c) {
    while (c->state == CS_UP && !c->write_errno && conn_pending(c)) {
        ssize_t w = write(c->wfd, buf_head(&c->out), conn_pending(c));
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return;
            /* not torn down here: a request handler may be running */
            c->write_errno = errno;
            return;
        }
        buf_consume(&c->out, w);
    }
}

void conn_handle(conn_t *c, short revents) {
    if (c->state != CS_UP) return;
    if (revents & (POLLIN | POLLHUP | POLLERR)) do_read(c);
    if (c->state == CS_UP && (revents & POLLOUT)) do_write(c);
}

void conn_send(conn_t *c, const buf_t *payload) {
    if (c->state != CS_UP) return;
    buf_append(&c->out, FRAME_MAGIC, 4);
    buf_put_u32(&c->out, (uint32_t)buf_size(payload));
    buf_append(&c->out, buf_head(payload), buf_size(payload));
    /* try at once: most frames go out without another poll round */
    do_write(c);
}

void conn_notice(conn_t *c, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    logmsg("notice: %s", msg);
    buf_t b = {0};
    coll_t m = enc_map_open(&b);
    enc_key(&m, "t");
    enc_str(&b, "notice");
    enc_key(&m, "message");
    enc_str(&b, msg);
    enc_close(&m);
    conn_send(c, &b);
    buf_free(&b);
}
