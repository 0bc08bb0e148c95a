#include "worker.h"

#include "log.h"
#include "signames.h"
#include "worker_spawn.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024)

typedef struct worker {
    int64_t id;
    pid_t pid;
    int fd;               /* our end of the channel; -1 once closed */
    buf_t in, out;        /* frames from / to the worker */
    int64_t *pending;     /* ids of relayed requests not answered yet */
    size_t npending, cap;
    int reaped, wstatus;  /* the process ended, and how */
    int64_t join_req;     /* a join waiting for the end, or -1 */
    struct worker *next;
} worker_t;

static worker_t *workers;
static int64_t next_id = 1;
static int relaying = 1;

void workers_relay_off(void) { relaying = 0; }

static worker_t *find(int64_t id) {
    for (worker_t *w = workers; w; w = w->next)
        if (w->id == id) return w;
    return NULL;
}

/* 128 + the signal for a killed worker, as a shell reports it. */
static int exit_status(int wstatus) {
    return WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : WEXITSTATUS(wstatus);
}

static void describe(const worker_t *w, char *out, size_t n) {
    if (WIFSIGNALED(w->wstatus)) {
        const char *name = signal_name(WTERMSIG(w->wstatus));
        snprintf(out, n, "exit status %d: killed by signal %s", exit_status(w->wstatus), name ? name : "?");
    } else {
        snprintf(out, n, "exit status %d", exit_status(w->wstatus));
    }
}

static void remove_worker(worker_t *w) {
    for (worker_t **pp = &workers; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    if (w->fd >= 0) close(w->fd);
    buf_free(&w->in);
    buf_free(&w->out);
    free(w->pending);
    free(w);
}

static void send_frame(worker_t *w, const uint8_t *payload, size_t n) {
    buf_append(&w->out, FRAME_MAGIC, 4);
    buf_put_u32(&w->out, (uint32_t)n);
    buf_append(&w->out, payload, n);
}

static void flush_out(worker_t *w) {
    while (w->fd >= 0 && buf_size(&w->out)) {
        ssize_t k = write(w->fd, buf_head(&w->out), buf_size(&w->out));
        if (k < 0) {
            if (errno == EINTR) continue;
            return; /* EAGAIN: poll says when; a broken channel shows as POLLHUP */
        }
        buf_consume(&w->out, k);
    }
}

static void reply_join(int64_t req, int status) {
    coll_t m = resp_ok(req);
    enc_key(&m, "exit_status");
    enc_int(m.b, status);
    proto_send(&m);
}

/* The channel is closed and the process reaped: what waited on it is answered. */
static void finished(worker_t *w) {
    char how[80];
    describe(w, how, sizeof how);
    logmsg("worker %lld (pid %d) ended: %s", (long long)w->id, (int)w->pid, how);
    for (size_t i = 0; i < w->npending; i++)
        reply_error(w->pending[i], "ESRCH", ESRCH, "worker %lld %s before answering (%s)", (long long)w->id,
                    w->join_req >= 0 ? "was joined" : "died", how);
    w->npending = 0;
    /* first the event: the host gives up on the worker's processes before a join returns */
    buf_t b = {0};
    coll_t m = enc_map_open(&b);
    enc_key(&m, "t");
    enc_str(&b, "ev");
    enc_key(&m, "ev");
    enc_str(&b, "worker_exit");
    enc_key(&m, "worker");
    enc_int(&b, w->id);
    enc_key(&m, "exit_status");
    enc_int(&b, exit_status(w->wstatus));
    enc_close(&m);
    conn_send(proto_conn, &b);
    buf_free(&b);
    if (w->join_req >= 0) {
        reply_join(w->join_req, exit_status(w->wstatus));
        remove_worker(w);
    }
}

/* Reaps the worker now, when procs_reap has not: `block` once its channel is
 * closed, as then it is on its way out. */
static void reap(worker_t *w, int block) {
    if (w->reaped || waitpid(w->pid, &w->wstatus, block ? 0 : WNOHANG) != w->pid) return;
    w->reaped = 1;
}

static void channel_closed(worker_t *w) {
    close(w->fd);
    w->fd = -1;
    buf_clear(&w->out);
    reap(w, 0);
    if (w->reaped) finished(w);
}

void op_worker_spawn(const req_t *r) {
    int fd;
    pid_t pid = worker_start(r, next_id, &fd);
    if (pid < 0) return;
    worker_t *w = xmalloc(sizeof *w);
    memset(w, 0, sizeof *w);
    w->id = next_id++;
    w->pid = pid;
    w->fd = fd;
    w->join_req = -1;
    w->next = workers;
    workers = w;
    /* The worker is a full agent: it wants the handshake first. Its answer is
     * read (and dropped) like any frame; requests queue behind it. */
    buf_t hello = {0};
    coll_t m = enc_map_open(&hello);
    enc_key(&m, "t");
    enc_str(&hello, "hello");
    enc_key(&m, "version");
    enc_int(&hello, AGENT_PROTOCOL_VERSION);
    enc_key(&m, "nonce");
    enc_int(&hello, 1);
    enc_close(&m);
    send_frame(w, buf_head(&hello), buf_size(&hello));
    buf_free(&hello);
    flush_out(w);
    coll_t res = resp_ok(r->id);
    enc_key(&res, "worker");
    enc_int(res.b, w->id);
    enc_key(&res, "pid");
    enc_int(res.b, pid);
    proto_send(&res);
}

/* The worker of request `r` (its `worker` argument), or NULL after answering an error. */
static worker_t *target(const req_t *r, int need_alive) {
    int64_t id;
    if (arg_int(r, "worker", 1, &id)) return NULL;
    worker_t *w = find(id);
    if (!w) {
        reply_error(r->id, "ESRCH", ESRCH, "%s: worker %lld does not exist: it was joined already, or never spawned",
                    r->op, (long long)id);
        return NULL;
    }
    if (need_alive && w->fd < 0 && w->join_req < 0) {
        if (!w->reaped) {
            reap(w, 1);
            finished(w);
        }
        char how[80];
        describe(w, how, sizeof how);
        reply_error(r->id, "ESRCH", ESRCH, "%s: worker %lld died (%s); join it to collect its status", r->op,
                    (long long)id, how);
        return NULL;
    }
    if (w->join_req >= 0) {
        reply_error(r->id, "ESRCH", ESRCH, "%s: worker %lld is being joined", r->op, (long long)id);
        return NULL;
    }
    return w;
}

void op_worker_kill(const req_t *r) {
    char *sig = NULL;
    if (arg_str(r, "signal", 1, &sig)) return;
    int signo = signal_from_name(sig);
    if (signo < 0) {
        reply_error(r->id, "EINVAL", EINVAL, "%s: unknown signal '%s'", r->op, sig);
        return;
    }
    worker_t *w = target(r, 1);
    if (!w) return;
    int delivered = !w->reaped && kill(w->pid, signo) == 0;
    coll_t m = resp_ok(r->id);
    enc_key(&m, "delivered");
    enc_bool(m.b, delivered);
    proto_send(&m);
}

void op_worker_join(const req_t *r) {
    worker_t *w = target(r, 0);
    if (!w) return;
    if (w->fd < 0 && !w->reaped) {
        reap(w, 1);
        finished(w);
    }
    if (w->fd < 0 && w->reaped) { /* it died earlier: its status was kept for this */
        reply_join(r->id, exit_status(w->wstatus));
        remove_worker(w);
        return;
    }
    /* EOF on its stdin ends a worker (conn.c, --worker is --stdio); the answer comes when it is reaped. */
    w->join_req = r->id;
    if (w->fd >= 0) channel_closed(w);
}

int workers_relay(const req_t *r, const uint8_t *payload, size_t n) {
    if (!relaying || !map_get(r->msg, "worker") || !strncmp(r->op, "worker_", 7)) return 0;
    worker_t *w = target(r, 1);
    if (!w) return 1;
    if (w->npending == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 8;
        w->pending = xrealloc(w->pending, w->cap * sizeof *w->pending);
    }
    w->pending[w->npending++] = r->id;
    send_frame(w, payload, n);
    flush_out(w);
    return 1;
}

static void answered(worker_t *w, int64_t id) {
    for (size_t i = 0; i < w->npending; i++)
        if (w->pending[i] == id) {
            w->pending[i] = w->pending[--w->npending];
            return;
        }
}

/* One frame from the worker: to the host with `worker` added to its map. */
static void from_worker(worker_t *w, const uint8_t *p, size_t n) {
    arena_t arena = {0};
    value_t msg;
    const char *err;
    const value_t *t, *id;
    if (value_decode(&arena, p, n, &msg, &err) < 0 || msg.type != V_MAP || !(t = map_get(&msg, "t")) ||
        t->type != V_STR) {
        logmsg("worker %lld sent an unusable frame: skipped", (long long)w->id);
    } else if (t->n == 5 && !memcmp(t->u.bytes, "hello", 5)) {
        const value_t *ok = map_get(&msg, "ok");
        if (!ok || ok->type != V_TRUE) logmsg("worker %lld refused the handshake", (long long)w->id);
    } else {
        if (t->n == 3 && !memcmp(t->u.bytes, "res", 3) && (id = map_get(&msg, "id")) && id->type == V_INT)
            answered(w, id->u.i);
        /* A map is its tag, a u32 count and the entries: one more entry goes at the end. */
        buf_t b = {0};
        buf_append(&b, p, n);
        set_u32(buf_head(&b) + 1, get_u32(p + 1) + 1);
        buf_put_u32(&b, 6);
        buf_append(&b, "worker", 6);
        enc_int(&b, w->id);
        conn_send(proto_conn, &b);
        buf_free(&b);
    }
    arena_free(&arena);
}

static void read_frames(worker_t *w) {
    for (;;) {
        buf_reserve(&w->in, READ_CHUNK);
        ssize_t k = read(w->fd, w->in.data + w->in.len, w->in.cap - w->in.len);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && errno == EAGAIN) return;
        if (k <= 0) {
            channel_closed(w);
            return;
        }
        w->in.len += k;
        while (buf_size(&w->in) >= FRAME_HEADER) {
            uint32_t len = get_u32(buf_head(&w->in) + 4);
            if (buf_size(&w->in) < FRAME_HEADER + (size_t)len) break;
            from_worker(w, buf_head(&w->in) + FRAME_HEADER, len);
            buf_consume(&w->in, FRAME_HEADER + (size_t)len);
        }
    }
}

void workers_prepare(pollset_t *ps) {
    for (worker_t *w = workers; w; w = w->next)
        if (w->fd >= 0) pollset_add(ps, w->fd, POLLIN | (buf_size(&w->out) ? POLLOUT : 0), SLOT_WORKER, w->id);
}

void workers_handle(int64_t id, short revents) {
    worker_t *w = find(id);
    if (!w || w->fd < 0) return;
    if (revents & POLLOUT) flush_out(w);
    if (revents & (POLLIN | POLLHUP | POLLERR)) read_frames(w);
}

void workers_reaped(pid_t pid, int wstatus) {
    for (worker_t *w = workers; w; w = w->next)
        if (w->pid == pid && !w->reaped) {
            w->reaped = 1;
            w->wstatus = wstatus;
            /* what it wrote before it ended is still to be read */
            if (w->fd >= 0) read_frames(w);
            else finished(w);
            return;
        }
}

void workers_end_session(void) {
    while (workers) {
        if (!workers->reaped) kill(workers->pid, SIGKILL);
        remove_worker(workers);
    }
}
