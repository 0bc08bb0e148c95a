#include "proc.h"

#include "log.h"
#include "signames.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

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
} proc_t;

static proc_t *procs;
static int64_t next_id = 1;

/*
 * While an exec's command runs, the agent is SCHED_BATCH, which does not
 * preempt the running task when it wakes. A short command wakes the agent at
 * its exec, when its pipes close and when it is reaped; each preemption is a
 * switch of address space, and under TCG every such switch flushes QEMU's
 * whole TLB and jump cache. As BATCH the agent mostly runs once the command
 * is gone (vm:run("true"): ~5.9 -> 3.0-3.4 agent context switches; see
 * docs/agent.md). Only while an exec runs (the host waits for its answer
 * anyway): an idle agent preempts as before, so a busy guest answers other
 * ops at once. Commands run under the agent's own policy (start_child puts it
 * back). Nothing of this when the agent was not started SCHED_OTHER.
 */
static int execs_running, batch_on;
static int batch_ok = -1; /* unknown yet; then: the agent runs SCHED_OTHER */

static void count_execs(int delta) {
    if (batch_ok < 0) batch_ok = sched_getscheduler(0) == SCHED_OTHER;
    execs_running += delta;
    int want = batch_ok && execs_running > 0;
    if (want == batch_on) return;
    struct sched_param sp = {0};
    if (sched_setscheduler(0, want ? SCHED_BATCH : SCHED_OTHER, &sp) == 0) batch_on = want;
}

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

/* Written by a child whose chdir or exec failed, read by the agent after vfork returns. */
struct exec_failure {
    int failed;
    int in_cwd; /* 1: chdir failed, 0: execvp failed */
    int err;
};

static char **build_env(const req_t *r) {
    const value_t *env = map_get(r->msg, "env");
    size_t base = 0;
    while (environ[base]) base++;
    size_t extra = env && env->type == V_MAP ? env->n : 0;
    char **out = arena_alloc(r->arena, (base + extra + 1) * sizeof *out);
    size_t n = 0;
    for (size_t i = 0; i < base; i++) {
        int overridden = 0;
        for (uint32_t k = 0; k < extra && !overridden; k++) {
            const entry_t *e = &env->u.entries[k];
            overridden = strncmp(environ[i], (const char *)e->key, e->klen) == 0 && environ[i][e->klen] == '=';
        }
        if (!overridden) out[n++] = environ[i];
    }
    for (uint32_t k = 0; k < extra; k++) {
        const entry_t *e = &env->u.entries[k];
        const value_t *v = &e->val;
        if (!e->klen || memchr(e->key, '=', e->klen) || memchr(e->key, 0, e->klen) ||
            (v->type != V_STR && v->type != V_BYTES) || memchr(v->u.bytes, 0, v->n)) {
            reply_error(r->id, "EINVAL", EINVAL,
                        "%s: env entry '%.*s' needs a non-empty name without '=' and a string value without NUL bytes",
                        r->op, (int)e->klen, (const char *)e->key);
            return NULL;
        }
        char *s = arena_alloc(r->arena, e->klen + v->n + 2);
        memcpy(s, e->key, e->klen);
        s[e->klen] = '=';
        memcpy(s + e->klen + 1, v->u.bytes, v->n);
        s[e->klen + 1 + v->n] = 0;
        out[n++] = s;
    }
    out[n] = NULL;
    return out;
}

static char **build_argv(const req_t *r) {
    char **argv = NULL, **args = NULL, *cmd = NULL;
    if (arg_str_array(r, "argv", &argv) || arg_str(r, "cmd", 0, &cmd) || arg_str_array(r, "args", &args))
        return NULL;
    if (!argv == !cmd) {
        reply_error(r->id, "EINVAL", EINVAL, "%s: give exactly one of 'argv' (a list) or 'cmd' (a shell command)", r->op);
        return NULL;
    }
    if (argv) {
        if (!argv[0]) reply_error(r->id, "EINVAL", EINVAL, "%s: 'argv' is empty", r->op);
        if (args && argv[0]) reply_error(r->id, "EINVAL", EINVAL, "%s: 'args' goes with 'cmd', not 'argv'", r->op);
        return argv[0] && !args ? argv : NULL;
    }
    size_t nargs = 0;
    while (args && args[nargs]) nargs++;
    char **sh = arena_alloc(r->arena, (nargs + 5) * sizeof *sh);
    sh[0] = "/bin/sh";
    sh[1] = "-c";
    sh[2] = cmd;
    sh[3] = "sh"; /* $0 */
    for (size_t i = 0; i < nargs; i++) sh[4 + i] = args[i];
    sh[4 + nargs] = NULL;
    return sh;
}

static void close_fd(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

/*
 * vfork + exec: no copy of the agent's page tables and no copy-on-write faults
 * after it, which under TCG was most of a command's cost (a `true` went from
 * ~7.6 to ~3 ms). The child only changes its own process state (session, signal
 * mask and handlers, fds, cwd) before it execs or _exits; it lives in a function
 * of its own so that no variable of the caller is live across the vfork.
 * The agent sleeps until the child has exec'd or exited, so a failed chdir or
 * exec is reported in the agent's memory, as glibc's posix_spawn does: no pipe
 * to create, read and close on every command.
 */
static pid_t __attribute__((noinline)) start_child(char **argv, char **envp, const char *cwd, const int child[3],
                                                    volatile struct exec_failure *fail, int batch) {
    pid_t pid = vfork();
    if (pid != 0) return pid;
    if (batch) {
        struct sched_param sp = {0};
        sched_setscheduler(0, SCHED_OTHER, &sp);
    }
    setsid();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL); /* ignored by the agent; exec would keep that */
    for (int s = 0; s < 3; s++) dup2(child[s], s);
    int in_cwd = cwd && chdir(cwd) != 0;
    if (!in_cwd) execvpe(argv[0], argv, envp); /* searches the requested PATH */
    fail->err = errno;
    fail->in_cwd = in_cwd;
    fail->failed = 1;
    _exit(127);
}

/* Read end of /dev/null for commands without stdin, opened once. */
static int dev_null(void) {
    static int fd = -1;
    if (fd < 0) fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd;
}

/* Starts the child; answers the request itself and returns NULL on failure. */
static proc_t *launch(const req_t *r, int stdin_pipe) {
    char **argv = build_argv(r);
    if (!argv) return NULL;
    char **envp = build_env(r);
    if (!envp) return NULL;
    char *cwd = NULL;
    if (arg_str(r, "cwd", 0, &cwd)) return NULL;

    /* child[]: the child's ends; ours[]: the agent's ends */
    int child[3] = {-1, -1, -1}, ours[3] = {-1, -1, -1};
    int ok = 1;
    if (stdin_pipe) {
        int p[2];
        ok = pipe2(p, O_CLOEXEC) == 0;
        if (ok) child[S_IN] = p[0], ours[S_IN] = p[1];
    }
    for (int s = S_OUT; ok && s <= S_ERR; s++) {
        int p[2];
        ok = pipe2(p, O_CLOEXEC) == 0;
        if (ok) ours[s] = p[0], child[s] = p[1];
    }
    int in = stdin_pipe ? child[S_IN] : dev_null();
    ok = ok && in >= 0;
    struct exec_failure f = {0, 0, 0};
    pid_t pid = ok ? start_child(argv, envp, cwd, (const int[3]){in, child[S_OUT], child[S_ERR]}, &f, batch_on) : -1;
    int fork_errno = errno;
    for (int s = 0; s < 3; s++) close_fd(&child[s]);
    if (pid < 0 || f.failed) {
        for (int s = 0; s < 3; s++) close_fd(&ours[s]);
        if (pid > 0) {
            waitpid(pid, NULL, 0);
            reply_errno(r, f.err, f.in_cwd ? cwd : argv[0], NULL);
        } else {
            reply_errno(r, fork_errno, argv[0], NULL);
        }
        return NULL;
    }
    proc_t *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->id = next_id++;
    p->pid = pid;
    for (int s = 0; s < 3; s++) {
        p->fd[s] = ours[s];
        if (ours[s] >= 0) fcntl(ours[s], F_SETFL, O_NONBLOCK);
    }
    p->next = procs;
    procs = p;
    logmsg("%s: started process %lld (pid %d): %s", r->op, (long long)p->id, (int)pid, argv[0]);
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
    close_fd(&p->fd[s]);
    if (!p->async || p->orphan) return;
    coll_t m = event_begin("eof", p->id);
    enc_key(&m, "stream");
    enc_str(m.b, stream_names[s]);
    proto_send(&m);
}

/* One read from stdout/stderr. Returns 1 while more may be readable now. */
static int read_stream(proc_t *p, int s) {
    static uint8_t chunk[64 * 1024];
    uint8_t *dst = chunk;
    size_t room = sizeof chunk;
    if (!p->async) {
        buf_reserve(&p->col[s], sizeof chunk);
        dst = p->col[s].data + p->col[s].len;
    }
    ssize_t n = read(p->fd[s], dst, room);
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
        p->col[s].len += n;
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

static void encode_exit(coll_t *m, proc_t *p, int wstatus) {
    char signame[16];
    const char *status = "exited", *sig = NULL;
    int code = 0;
    if (p->timed_out) {
        status = "timed_out";
        code = -2;
        sig = "kill";
    } else if (WIFSIGNALED(wstatus)) {
        status = "signalled";
        code = -1;
        sig = signal_name(WTERMSIG(wstatus));
        if (!sig) {
            snprintf(signame, sizeof signame, "%d", WTERMSIG(wstatus));
            sig = signame;
        }
    } else {
        code = WEXITSTATUS(wstatus);
    }
    enc_key(m, "status");
    enc_str(m->b, status);
    enc_key(m, "exit_code");
    enc_int(m->b, code);
    enc_key(m, "signal");
    if (sig) enc_str(m->b, sig);
    else enc_nil(m->b);
}

static void finish(proc_t *p, int wstatus) {
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
            encode_exit(&m, p, wstatus);
            proto_send(&m);
        } else if (p->overflow) {
            reply_error(p->req_id, "E2BIG", E2BIG, "exec: %s exceeded %u bytes; use spawn to stream large output",
                        stream_names[p->overflow], MAX_COLLECT);
        } else {
            coll_t m = resp_ok(p->req_id);
            encode_exit(&m, p, wstatus);
            enc_key(&m, "stdout");
            enc_bytes(m.b, buf_head(&p->col[S_OUT]), buf_size(&p->col[S_OUT]));
            enc_key(&m, "stderr");
            enc_bytes(m.b, buf_head(&p->col[S_ERR]), buf_size(&p->col[S_ERR]));
            proto_send(&m);
        }
    }
    for (proc_t **pp = &procs; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    if (!p->async) count_execs(-1);
    buf_free(&p->col[S_OUT]);
    buf_free(&p->col[S_ERR]);
    free(p);
}

void procs_reap(void) {
    int wstatus;
    pid_t pid;
    while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
        for (proc_t *p = procs; p; p = p->next)
            if (p->pid == pid) {
                finish(p, wstatus);
                break;
            }
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
    if (arg_bytes(r, "stdin", 0, &in, &in_len) || arg_int(r, "timeout_ms", 0, &timeout)) return;
    if (timeout < 0) {
        reply_error(r->id, "EINVAL", EINVAL, "exec: timeout_ms must be >= 0, got %lld", (long long)timeout);
        return;
    }
    count_execs(1);
    proc_t *p = launch(r, in != NULL);
    if (!p) {
        count_execs(-1);
        return;
    }
    p->req_id = r->id;
    if (timeout) p->deadline = now_ms() + timeout;
    if (in) {
        queue_stdin(p, 0, in, in_len, 1);
        flush_stdin(p);
    }
}

void op_spawn(const req_t *r) {
    proc_t *p = launch(r, 1);
    if (!p) return;
    p->async = 1;
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
