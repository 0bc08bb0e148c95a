#include "session.h"

#include "batch.h"
#include "files.h"
#include "handles.h"
#include "log.h"
#include "proc.h"
#include "proto.h"
#include "tail.h"
#include "worker.h"
#include "sysasync.h"
#include "syscall.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int active;         /* a hello with our version was answered */
static int64_t nonce = -1; /* nonce of the last hello answered (accepted or refused) */

static void op_ping(const req_t *r) { reply_ok(r); }

static void op_clock_get(const req_t *r) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    coll_t m = resp_ok(r->id);
    enc_key(&m, "sec");
    enc_int(m.b, ts.tv_sec);
    enc_key(&m, "nsec");
    enc_int(m.b, ts.tv_nsec);
    proto_send(&m);
}

static void op_clock_set(const req_t *r) {
    int64_t sec, nsec = 0;
    if (arg_int(r, "sec", 1, &sec) || arg_int(r, "nsec", 0, &nsec)) return;
    if (nsec < 0 || nsec > 999999999) {
        reply_error(r->id, "EINVAL", EINVAL, "clock_set: nsec must be 0..999999999, got %lld", (long long)nsec);
        return;
    }
    struct timespec ts = {.tv_sec = sec, .tv_nsec = nsec};
    if (clock_settime(CLOCK_REALTIME, &ts) < 0) {
        reply_errno(r, errno, NULL, NULL);
        return;
    }
    logmsg("clock set to %lld.%09lld", (long long)sec, (long long)nsec);
    reply_ok(r);
}

static void op_log(const req_t *r) {
    buf_t data = {0};
    if (log_read(&data) < 0) {
        reply_errno(r, errno, log_path(), NULL);
    } else {
        coll_t m = resp_ok(r->id);
        enc_key(&m, "data");
        enc_bytes(m.b, buf_head(&data), buf_size(&data));
        proto_send(&m);
    }
    buf_free(&data);
}

static const struct {
    const char *name;
    void (*fn)(const req_t *);
} ops[] = {
    {"ping", op_ping},
    {"exec", op_exec},
    {"spawn", op_spawn},
    {"proc_write", op_proc_write},
    {"proc_close_stdin", op_proc_close_stdin},
    {"proc_kill", op_proc_kill},
    {"read_file", op_read_file},
    {"write_file", op_write_file},
    {"stat", op_stat},
    {"listdir", op_listdir},
    {"mkdir", op_mkdir},
    {"unlink", op_unlink},
    {"rename", op_rename},
    {"open", op_open},
    {"read", op_read},
    {"write", op_write},
    {"seek", op_seek},
    {"tell", op_tell},
    {"close", op_close},
    {"clock_get", op_clock_get},
    {"clock_set", op_clock_set},
    {"log", op_log},
    {"batch", op_batch},
    {"tail_open", op_tail_open},
    {"tail_fd", op_tail_fd},
    {"tail_close", op_tail_close},
    {"worker_spawn", op_worker_spawn},
    {"worker_kill", op_worker_kill},
    {"worker_join", op_worker_join},
    {"syscall", op_syscall},
    {"syscall_cancel", op_syscall_cancel},
    {"ioctl", op_ioctl},
    {"read_mem", op_read_mem},
};

void session_end(void) {
    batches_drop_all();
    procs_orphan_all();
    tails_close_all();
    files_close_all();
    workers_end_session();
    sysasync_orphan_all();
    active = 0;
    nonce = -1;
}

static void on_hello(const value_t *msg) {
    const value_t *v = map_get(msg, "version"), *n = map_get(msg, "nonce");
    int64_t version = v && v->type == V_INT ? v->u.i : -1;
    if (!n || n->type != V_INT || n->u.i < 0) {
        conn_notice(proto_conn, "hello without a non-negative integer 'nonce': ignored");
        return;
    }
    int64_t host_nonce = n->u.i;
    int ok = version == AGENT_PROTOCOL_VERSION;
    /* A host repeats its hello until answered: repeats (same nonce) change nothing. */
    if (host_nonce != nonce) {
        if (active) logmsg("new session replaces the previous one");
        session_end();
        nonce = host_nonce;
        active = ok;
        if (ok)
            logmsg("handshake: protocol version %d, session %lld", AGENT_PROTOCOL_VERSION, (long long)nonce);
        else
            logmsg("handshake refused: host speaks protocol version %lld, agent %d: rebuild the image with `provium prepare`",
                   (long long)version, AGENT_PROTOCOL_VERSION);
    }
    buf_t b = {0};
    coll_t m = enc_map_open(&b);
    enc_key(&m, "t");
    enc_str(&b, "hello");
    enc_key(&m, "ok");
    enc_bool(&b, ok);
    enc_key(&m, "version");
    enc_int(&b, AGENT_PROTOCOL_VERSION);
    enc_key(&m, "nonce");
    enc_int(&b, host_nonce);
    enc_key(&m, "agent");
    enc_str(&b, "provium-agent");
    enc_key(&m, "pid");
    enc_int(&b, getpid());
    if (!ok) {
        char msg[200];
        snprintf(msg, sizeof msg, "agent protocol version %d, host expects %lld", AGENT_PROTOCOL_VERSION,
                 (long long)version);
        enc_key(&m, "message");
        enc_str(&b, msg);
    }
    enc_close(&m);
    conn_send(proto_conn, &b);
    buf_free(&b);
}

static void on_request(const value_t *msg, arena_t *arena, const uint8_t *payload, size_t n) {
    const value_t *id = map_get(msg, "id"), *op = map_get(msg, "op");
    if (!id || id->type != V_INT || id->u.i < 0) { /* negative ids are batch.c's own */
        conn_notice(proto_conn, "request without a non-negative integer 'id': ignored");
        return;
    }
    if (!op || op->type != V_STR) {
        reply_error(id->u.i, "EINVAL", EINVAL, "request %lld has no 'op' string", (long long)id->u.i);
        return;
    }
    req_t r = {id->u.i, arena_strdup(arena, op), msg, arena};
    if (!active) {
        reply_error(r.id, "EPROTO", EPROTO, "%s: no session: the host must complete the hello handshake first", r.op);
        return;
    }
    if (workers_relay(&r, payload, n)) return;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(ops[i].name, r.op)) {
            ops[i].fn(&r);
            return;
        }
    reply_error(r.id, "ENOSYS", ENOSYS, "unknown op '%s' (agent protocol version %d)", r.op, AGENT_PROTOCOL_VERSION);
}

void session_on_frame(const uint8_t *payload, size_t n) {
    arena_t arena = {0};
    value_t msg;
    const char *err;
    const value_t *t;
    if (value_decode(&arena, payload, n, &msg, &err) < 0) {
        conn_notice(proto_conn, "undecodable frame of %zu bytes (%s): skipped", n, err);
    } else if (msg.type != V_MAP || !(t = map_get(&msg, "t")) || t->type != V_STR) {
        conn_notice(proto_conn, "frame is not a message map with a 't' string: skipped");
    } else if (t->n == 5 && !memcmp(t->u.bytes, "hello", 5)) {
        on_hello(&msg);
    } else if (t->n == 3 && !memcmp(t->u.bytes, "req", 3)) {
        on_request(&msg, &arena, payload, n);
    } else {
        conn_notice(proto_conn, "unknown message type '%.*s': skipped", (int)t->n, (const char *)t->u.bytes);
    }
    arena_free(&arena);
}
