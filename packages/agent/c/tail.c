#include "tail.h"

#include "files.h"
#include "handles.h"
#include "log.h"
#include "pipes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A regular file cannot be polled for growth: while any is tailed, the loop
 * looks at them this often (inotify would miss a file replaced by rename
 * unless its directory were watched as well). */
#define TAIL_PERIOD_MS 50
#define TAIL_CHUNK (64 * 1024)
/* The most one tick reads from one file: a large backlog goes out in parts
 * (the next tick comes at once) so other work is not held up. */
#define TAIL_TICK_MAX (1024 * 1024)

typedef struct tail {
    struct tail *next;
    int64_t id;
    int fd;
    /* tail_open: the path, reopened when it names a new file (rotation);
     * NULL for tail_fd, which stays with its open file. */
    char *path;
    int regular; /* read with pread at `offset` on each tick; otherwise polled and read() */
    off_t offset;
} tail_t;

static tail_t *tails;
static int64_t next_id = 1;
static int64_t next_due; /* when the regular files are looked at next (monotonic ms) */

static tail_t *find(int64_t id) {
    for (tail_t *t = tails; t; t = t->next)
        if (t->id == id) return t;
    return NULL;
}

static void drop(tail_t *t) {
    tail_t **pp = &tails;
    while (*pp != t) pp = &(*pp)->next;
    *pp = t->next;
    close_fd(&t->fd);
    free(t->path);
    free(t);
}

static void send_data(tail_t *t, const uint8_t *p, size_t n) {
    coll_t m = event_begin_for("tail_data", "tail", t->id);
    enc_key(&m, "data");
    enc_bytes(m.b, p, n);
    proto_send(&m);
}

/* The end of a tail the agent cannot read on: it tells the host and forgets it. */
static void end(tail_t *t, const char *why) {
    coll_t m = event_begin_for("tail_end", "tail", t->id);
    if (why) {
        enc_key(&m, "message");
        enc_str(m.b, why);
    }
    proto_send(&m);
    logmsg("tail %lld ended: %s", (long long)t->id, why ? why : "end of file");
    drop(t);
}

static uint8_t chunk[TAIL_CHUNK];

/* The path names another file than the one open (rotated, or removed and
 * made again): the new one is read from its start. */
static void follow_rotation(tail_t *t, const struct stat *open_st) {
    struct stat st;
    if (!t->path || stat(t->path, &st) < 0) return; /* gone for now: keep the old one */
    if (st.st_ino == open_st->st_ino && st.st_dev == open_st->st_dev) return;
    int fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return;
    logmsg("tail %lld: %s is a new file: following it from its start", (long long)t->id, t->path);
    close(t->fd);
    t->fd = fd;
    t->offset = 0;
    t->regular = S_ISREG(st.st_mode);
}

/* Sends what the regular file has past `offset`, up to `budget` bytes;
 * returns the bytes sent, or -1 when the tail ended. */
static ssize_t pump_regular(tail_t *t, size_t budget) {
    struct stat st;
    if (fstat(t->fd, &st) < 0) {
        end(t, strerror(errno));
        return -1;
    }
    if (st.st_size < t->offset) {
        logmsg("tail %lld: truncated to %lld bytes: reading on from its start", (long long)t->id, (long long)st.st_size);
        t->offset = 0;
    }
    size_t sent = 0;
    while (t->offset < st.st_size && sent < budget) {
        size_t want = (size_t)(st.st_size - t->offset);
        if (want > sizeof chunk) want = sizeof chunk;
        ssize_t n = pread(t->fd, chunk, want, t->offset);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            end(t, strerror(errno));
            return -1;
        }
        if (n == 0) break;
        send_data(t, chunk, (size_t)n);
        t->offset += n;
        sent += (size_t)n;
    }
    if (t->offset >= st.st_size) follow_rotation(t, &st);
    return (ssize_t)sent;
}

void tails_prepare(pollset_t *ps, int64_t now, int paused) {
    if (paused) return;
    int any_regular = 0;
    for (tail_t *t = tails; t; t = t->next) {
        if (t->regular) any_regular = 1;
        else pollset_add(ps, t->fd, POLLIN, SLOT_TAIL, t->id);
    }
    if (any_regular) pollset_wake_at(ps, next_due, now);
}

void tails_handle(int64_t id, short revents) {
    tail_t *t = find(id);
    if (!t || t->regular || !(revents & (POLLIN | POLLHUP | POLLERR))) return;
    /* One read per wake-up: the fd may be shared with a File, so it is not
     * made non-blocking, and after POLLIN one read does not block. */
    ssize_t n = read(t->fd, chunk, sizeof chunk);
    if (n > 0) send_data(t, chunk, (size_t)n);
    else if (n == 0) end(t, NULL);
    else if (errno != EINTR && errno != EAGAIN) end(t, strerror(errno));
}

void tails_tick(int64_t now, int paused) {
    if (paused || now < next_due) return;
    int busy = 0;
    for (tail_t *t = tails, *next; t; t = next) {
        next = t->next;
        if (t->regular && pump_regular(t, TAIL_TICK_MAX) >= TAIL_TICK_MAX) busy = 1;
    }
    next_due = busy ? now : now + TAIL_PERIOD_MS;
}

static tail_t *add(int fd, const char *path, int regular, off_t offset) {
    tail_t *t = xmalloc(sizeof *t);
    *t = (tail_t){tails, next_id++, fd, path ? xstrdup(path) : NULL, regular, offset};
    tails = t;
    next_due = 0; /* look at once: a start before the end has bytes to send */
    return t;
}

static void reply_tail(const req_t *r, const tail_t *t) {
    coll_t m = resp_ok(r->id);
    enc_key(&m, "tail");
    enc_int(m.b, t->id);
    enc_key(&m, "offset");
    enc_int(m.b, t->offset);
    proto_send(&m);
}

/* {path, offset, from_end}: from byte `offset`, or `offset` bytes before the
 * end (clamped to 0); an offset past the end starts at the end. */
void op_tail_open(const req_t *r) {
    char *path;
    int64_t offset;
    int from_end = 0;
    if (arg_str(r, "path", 1, &path) || arg_int(r, "offset", 1, &offset) || arg_bool(r, "from_end", &from_end)) return;
    if (offset < 0) {
        reply_error(r->id, "EINVAL", EINVAL, "tail_open: offset must be >= 0, got %lld", (long long)offset);
        return;
    }
    /* O_NONBLOCK: opening a FIFO does not wait for a writer */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int err = errno;
        if (fd >= 0) close(fd);
        reply_errno(r, err, path, NULL);
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        reply_errno(r, EISDIR, path, NULL);
        return;
    }
    off_t start = 0;
    if (S_ISREG(st.st_mode)) {
        start = from_end ? (offset > st.st_size ? 0 : st.st_size - offset) : offset;
        if (start > st.st_size) start = st.st_size;
    }
    reply_tail(r, add(fd, path, S_ISREG(st.st_mode), start));
}

/* {handle}: what can be read from an open file handle, from its offset on.
 * The tail has its own descriptor and, for a regular file, its own offset. */
void op_tail_fd(const req_t *r) {
    int64_t handle;
    if (arg_int(r, "handle", 1, &handle)) return;
    const char *path;
    int hfd = files_fd(handle, &path);
    if (hfd < 0) {
        reply_error(r->id, "EBADF", EBADF, "tail_fd: no open file handle %lld", (long long)handle);
        return;
    }
    if ((fcntl(hfd, F_GETFL) & O_ACCMODE) == O_WRONLY) {
        reply_error(r->id, "EBADF", EBADF, "tail_fd: handle %lld (%s) is open for writing only: open it for reading to stream it",
                    (long long)handle, path);
        return;
    }
    struct stat st;
    int fd = fcntl(hfd, F_DUPFD_CLOEXEC, 3);
    int err = fd < 0 || fstat(fd, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    if (err) {
        if (fd >= 0) close(fd);
        reply_errno(r, err, path, NULL);
        return;
    }
    off_t at = S_ISREG(st.st_mode) ? lseek(fd, 0, SEEK_CUR) : 0;
    reply_tail(r, add(fd, NULL, S_ISREG(st.st_mode), at < 0 ? 0 : at));
}

void op_tail_close(const req_t *r) {
    int64_t id;
    if (arg_int(r, "tail", 1, &id)) return;
    tail_t *t = find(id);
    if (t) drop(t);
    reply_ok(r); /* one that ended on its own is closed already */
}

void tails_close_all(void) {
    while (tails) drop(tails);
}
