#include "proc.h"

#include "launch.h"
#include "log.h"
#include "pipes.h"
#include "report.h"
#include "signames.h"
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { S_IN = 0, S_OUT = 1, S_ERR = 2 };
static const char *stream_names[] = {"stdin", "stdout", "stderr"};

typedef struct stdin_op {
    struct stdin_op *next;
    int64_t req_id; /* 0: nobody waits for it (exec's stdin) */
    uint8_t *data;
    size_t len, off;
    int close_after;
} stdin_op_t;

typedef struct proc {
    struct proc *next;
    int64_t id;
    pid_t pid;
    int async;
    int64_t req_id; /* exec: the request answered at exit */
    int fd[3];      /* our ends: stdin (write), stdout, stderr (read); -1 once closed */
    buf_t col[3];   /* exec: collected stdout/stderr at [S_OUT]/[S_ERR] */
    stdin_op_t *q, *q_tail;
    int stdin_closing; /* a close is queued: later writes fail */
    int64_t deadline;  /* exec timeout (monotonic ms), 0 for none */
    int timed_out, overflow, orphan;
    launch_times_t *times; /* a traced exec's timeline, else NULL */
} proc_t;

static proc_t *procs;
static int64_t next_id = 1;

static proc_t *find(int64_t id) {
    for (proc_t *p = procs; p; p = p->next)
        if (p->id == id) return p;
    return NULL;
}

static void signal_group(proc_t *p, int sig) {
    /* the child runs in its own session: signal its whole process group, or
     * the child alone if it has not reached setsid() yet */
    if (kill(-p->pid, sig) < 0) kill(p->pid, sig);
}

// ------------------------------------------------------------------ launching

/* Starts the child and keeps it; answers the request itself and returns NULL on failure. */
static proc_t *start(const req_t *r, int stdin_pipe, int async, launch_times_t *times) {
    int ours[3];
    const char *prog;
    pid_t pid = launch(r, stdin_pipe, !async, ours, &prog, times);
    if (pid < 0) return NULL;
    proc_t *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->id = next_id++;
    p->pid = pid;
    p->async = async;
    for (int s = 0; s < 3; s++) p->fd[s] = ours[s];
    p->next = procs;
    procs = p;
    logmsg("%s: started process %lld (pid %d): %s", r->op, (long long)p->id, (int)pid, prog);
    return p;
}

// ------------------------------------------------------------------ stdin

static void queue_stdin(proc_t *p, int64_t req_id, const uint8_t *data, size_t len, int close_after) {
    stdin_op_t *op = calloc(1, sizeof *op);
    if (!op) abort();
    op->req_id = req_id;
    op->len = len;
    op->close_after = close_after;
    if (len) op->data = memcpy(xmalloc(len), data, len);
    if (p->q_tail) p->q_tail->next = op;
    else p->q = op;
    p->q_tail = op;
    if (close_after) p->stdin_closing = 1;
}

static void pop_stdin(proc_t *p) {
    stdin_op_t *op = p->q;
    p->q = op->next;
    if (!p->q) p->q_tail = NULL;
    free(op->data);
    free(op);
}

/* Fails the queued writes (the pipe broke or the process is gone). */
static void fail_stdin(proc_t *p, const char *why) {
    while (p->q) {
        if (p->q->req_id && !p->orphan)
            reply_error(p->q->req_id, "EPIPE", EPIPE, "stdin of process %lld is closed: %s", (long long)p->id, why);
        pop_stdin(p);
    }
    close_fd(&p->fd[S_IN]);
}

static void flush_stdin(proc_t *p) {
    while (p->q && p->fd[S_IN] >= 0) {
        stdin_op_t *op = p->q;
        if (op->off < op->len) {
            ssize_t w = write(p->fd[S_IN], op->data + op->off, op->len - op->off);
            if (w < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN) return;
                fail_stdin(p, strerror(errno));
                return;
            }
            op->off += w;
            if (op->off < op->len) continue;
        }
        if (op->close_after) close_fd(&p->fd[S_IN]);
        if (op->req_id && !p->orphan) {
            coll_t m = resp_ok(op->req_id);
            proto_send(&m);
        }
        pop_stdin(p);
    }
}

// ------------------------------------------------------------------ output

static void send_data(proc_t *p, int s, const uint8_t *data, size_t n) {
    coll_t m = event_begin("data", p->id);
    enc_key(&m, "stream");
    enc_str(m.b, stream_names[s]);
    enc_key(&m, "data");
    enc_bytes(m.b, data, n);
    proto_send(&m);
}

static void stream_eof(proc_t *p, int s) {
    if (!p->async) {
        /* an exec's answer waits for nothing of it (pipes.h) */
        pipes_retire(p->fd[s]);
        p->fd[s] = -1;
        return;
    }
    close_fd(&p->fd[s]);
    if (p->orphan) return;
    coll_t m = event_begin("eof", p->id);
    enc_key(&m, "stream");
    enc_str(m.b, stream_names[s]);
    proto_send(&m);
}

/* One read from stdout/stderr. Returns 1 while more may be readable now. */
static int read_stream(proc_t *p, int s) {
    /* An exec's output is copied from here: most commands end with a read of
     * nothing, and a buffer made for it would be one more allocation. */
    static uint8_t chunk[64 * 1024];
    ssize_t n = read(p->fd[s], chunk, sizeof chunk);
    if (n < 0) {
        if (errno == EINTR) return 1;
        if (errno == EAGAIN) return 0;
        stream_eof(p, s);
        return 0;
    }
    if (n == 0) {
        stream_eof(p, s);
        return 0;
    }
    if (p->async) {
        if (!p->orphan) send_data(p, s, chunk, n);
    } else {
        buf_append(&p->col[s], chunk, n);
        if (buf_size(&p->col[s]) > MAX_COLLECT) {
            p->overflow = s;
            signal_group(p, SIGKILL);
            close_fd(&p->fd[s]);
            return 0;
        }
    }
    return 1;
}

// ------------------------------------------------------------------ exit

static void finish(proc_t *p, int wstatus) {
    int64_t exited = p->times ? now_ns() : 0;
    /* Whatever the child wrote before exiting is in the pipes now; output of
     * background grandchildren that keep the pipes open is not waited for. */
    for (int s = S_OUT; s <= S_ERR; s++) {
        while (p->fd[s] >= 0 && read_stream(p, s)) {}
        if (p->fd[s] >= 0) stream_eof(p, s);
    }
    fail_stdin(p, "the process exited");
    logmsg("process %lld (pid %d) ended: status 0x%x%s", (long long)p->id, (int)p->pid, wstatus,
           p->timed_out ? " (timed out)" : "");
    if (!p->orphan) {
        if (p->async) {
            coll_t m = event_begin("exit", p->id);
            encode_exit(&m, wstatus, p->timed_out);
            proto_send(&m);
        } else if (p->overflow) {
            reply_error(p->req_id, "E2BIG", E2BIG, "exec: %s exceeded %u bytes; use spawn to stream large output",
                        stream_names[p->overflow], MAX_COLLECT);
        } else {
            coll_t m = resp_ok(p->req_id);
            encode_exit(&m, wstatus, p->timed_out);
            enc_key(&m, "stdout");
            enc_bytes(m.b, buf_head(&p->col[S_OUT]), buf_size(&p->col[S_OUT]));
            enc_key(&m, "stderr");
            enc_bytes(m.b, buf_head(&p->col[S_ERR]), buf_size(&p->col[S_ERR]));
            if (p->times) encode_trace(&m, p->times, exited);
            proto_send(&m);
        }
    }
    for (proc_t **pp = &procs; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    if (!p->async) launch_count_execs(-1);
    buf_free(&p->col[S_OUT]);
    buf_free(&p->col[S_ERR]);
    free(p->times);
    free(p);
}

void procs_reap(void) {
    int wstatus;
    pid_t pid;
    while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
        proc_t *p = procs;
        while (p && p->pid != pid) p = p->next;
        if (p) finish(p, wstatus);
        else workers_reaped(pid, wstatus);
    }
}

// ------------------------------------------------------------------ loop

void procs_prepare(pollset_t *ps, int64_t now, int stream_paused) {
    for (proc_t *p = procs; p; p = p->next) {
        if (p->fd[S_IN] >= 0 && p->q) pollset_add(ps, p->fd[S_IN], POLLOUT, SLOT_PROC_IN, p->id);
        if (p->async && stream_paused && !p->orphan) continue;
        if (p->fd[S_OUT] >= 0) pollset_add(ps, p->fd[S_OUT], POLLIN, SLOT_PROC_OUT, p->id);
        if (p->fd[S_ERR] >= 0) pollset_add(ps, p->fd[S_ERR], POLLIN, SLOT_PROC_ERR, p->id);
        if (p->deadline && !p->timed_out) pollset_wake_at(ps, p->deadline, now);
    }
}

void procs_handle(enum slot_kind kind, int64_t id, short revents) {
    proc_t *p = find(id);
    if (!p) return;
    if (kind == SLOT_PROC_IN) {
        if (revents & (POLLOUT | POLLERR | POLLHUP)) flush_stdin(p);
        return;
    }
    int s = kind == SLOT_PROC_OUT ? S_OUT : S_ERR;
    if (p->fd[s] >= 0 && (revents & (POLLIN | POLLHUP | POLLERR))) read_stream(p, s);
}

void procs_check_deadlines(int64_t now) {
    for (proc_t *p = procs; p; p = p->next)
        if (p->deadline && !p->timed_out && now >= p->deadline) {
            p->timed_out = 1;
            logmsg("process %lld (pid %d) timed out: killing its process group", (long long)p->id, (int)p->pid);
            signal_group(p, SIGKILL);
        }
}

void procs_orphan_all(void) {
    for (proc_t *p = procs; p; p = p->next) {
        if (p->orphan) continue;
        p->orphan = 1;
        fail_stdin(p, "the host disconnected");
        logmsg("process %lld (pid %d) keeps running without a host", (long long)p->id, (int)p->pid);
    }
}

// ------------------------------------------------------------------ ops

void op_exec(const req_t *r) {
    const uint8_t *in = NULL;
    size_t in_len = 0;
    int64_t timeout = 0;
    int trace = 0;
    if (arg_bytes(r, "stdin", 0, &in, &in_len) || arg_int(r, "timeout_ms", 0, &timeout) || arg_bool(r, "trace", &trace))
        return;
    if (timeout < 0) {
        reply_error(r->id, "EINVAL", EINVAL, "exec: timeout_ms must be >= 0, got %lld", (long long)timeout);
        return;
    }
    launch_times_t *times = NULL;
    if (trace) {
        times = xmalloc(sizeof *times);
        times->start = now_ns();
    }
    launch_count_execs(1);
    proc_t *p = start(r, in != NULL, 0, times);
    if (!p) {
        free(times);
        launch_count_execs(-1);
        return;
    }
    p->times = times;
    p->req_id = r->id;
    if (timeout) p->deadline = now_ms() + timeout;
    if (in) {
        queue_stdin(p, 0, in, in_len, 1);
        flush_stdin(p);
    }
}

void op_spawn(const req_t *r) {
    proc_t *p = start(r, 1, 1, NULL);
    if (!p) return;
    coll_t m = resp_ok(r->id);
    enc_key(&m, "proc");
    enc_int(m.b, p->id);
    enc_key(&m, "pid");
    enc_int(m.b, p->pid);
    proto_send(&m);
}

/* Finds a spawned process; answers with ESRCH itself when there is none. */
static proc_t *find_spawned(const req_t *r, int64_t *id) {
    if (arg_int(r, "proc", 1, id)) return NULL;
    proc_t *p = find(*id);
    if (p && p->async && !p->orphan) return p;
    if (!(*id > 0 && *id < next_id))
        reply_error(r->id, "ESRCH", ESRCH, "%s: no process with id %lld", r->op, (long long)*id);
    return NULL;
}

void op_proc_write(const req_t *r) {
    const uint8_t *data;
    size_t len;
    int64_t id = 0;
    if (arg_bytes(r, "data", 1, &data, &len)) return;
    proc_t *p = find_spawned(r, &id);
    if (!p) {
        if (id > 0 && id < next_id)
            reply_error(r->id, "EPIPE", EPIPE, "proc_write: process %lld has exited", (long long)id);
        return;
    }
    if (p->fd[S_IN] < 0 || p->stdin_closing) {
        reply_error(r->id, "EPIPE", EPIPE, "proc_write: stdin of process %lld is closed", (long long)id);
        return;
    }
    queue_stdin(p, r->id, data, len, 0);
    flush_stdin(p);
}

void op_proc_close_stdin(const req_t *r) {
    int64_t id = 0;
    proc_t *p = find_spawned(r, &id);
    if (!p) {
        if (id > 0 && id < next_id) reply_ok(r); /* exited: its stdin is closed already */
        return;
    }
    if (p->fd[S_IN] < 0 || p->stdin_closing) {
        reply_ok(r);
        return;
    }
    queue_stdin(p, r->id, NULL, 0, 1);
    flush_stdin(p);
}

void op_proc_kill(const req_t *r) {
    char *name = "term";
    int64_t id = 0;
    if (arg_str(r, "signal", 0, &name)) return;
    int sig = signal_from_name(name);
    if (sig < 0) {
        reply_error(r->id, "EINVAL", EINVAL, "proc_kill: unknown signal '%s' (use names like term, kill, int, hup, usr1)",
                    name);
        return;
    }
    proc_t *p = find_spawned(r, &id);
    if (!p && !(id > 0 && id < next_id)) return;
    if (p) signal_group(p, sig);
    coll_t m = resp_ok(r->id);
    enc_key(&m, "delivered");
    enc_bool(m.b, p != NULL);
    proto_send(&m);
}
