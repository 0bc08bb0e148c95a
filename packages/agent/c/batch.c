/* Each op of a batch runs through its ordinary handler under an internal
 * request id (negative, so it never meets a host's); proto.c hands the answer
 * to such an id back here instead of sending it. Most ops answer before their
 * handler returns. An exec answers when its process exits: the batch waits
 * for it and goes on from the main loop, so other requests and processes are
 * served meanwhile, and the next op starts only after the previous one ended. */
#include "batch.h"

#include "files.h"
#include "log.h"
#include "proc.h"
#include "syscall.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The answer holds every result: keep it under the frame limit, with room for its own keys. */
#define RESULTS_MAX (MAX_FRAME - 64u * 1024)

typedef struct batch {
    struct batch *next;
    int64_t id;        /* the host's request */
    arena_t arena;     /* a copy of the ops: the request's frame is freed once op_batch returns */
    value_t ops;
    uint32_t next_op;  /* the next op to start */
    int64_t waiting;   /* internal id of the op whose answer is due; 0 when none is */
    buf_t results;     /* the answers so far, each an encoded response map */
} batch_t;

static batch_t *batches;
static int64_t next_internal = -1;

/* A syscall in a batch is a sync one (on the main thread, under its deadline,
 * answered before op_syscall returns). An async one would outlive its op and
 * leave a thread behind a batch dropped with its session: refused. */
static void batch_syscall(const req_t *r) {
    const value_t *async = map_get(r->msg, "async");
    if (async && async->type == V_TRUE) {
        reply_error(r->id, "EINVAL", EINVAL, "syscall: an async call cannot run in a batch: leave 'async' out");
        return;
    }
    op_syscall(r);
}

static const struct {
    const char *name;
    void (*fn)(const req_t *);
} batch_ops[] = {
    {"exec", op_exec},       {"read_file", op_read_file}, {"write_file", op_write_file}, {"stat", op_stat},
    {"listdir", op_listdir}, {"mkdir", op_mkdir},         {"unlink", op_unlink},         {"rename", op_rename},
    {"syscall", batch_syscall},
};

static void copy_value(arena_t *a, value_t *dst, const value_t *src) {
    *dst = *src;
    switch (src->type) {
    case V_BYTES:
    case V_STR:
        dst->u.bytes = memcpy(arena_alloc(a, src->n), src->u.bytes, src->n);
        break;
    case V_ARRAY:
        dst->u.items = arena_alloc(a, (size_t)src->n * sizeof(value_t));
        for (uint32_t i = 0; i < src->n; i++) copy_value(a, &dst->u.items[i], &src->u.items[i]);
        break;
    case V_MAP:
        dst->u.entries = arena_alloc(a, (size_t)src->n * sizeof(entry_t));
        for (uint32_t i = 0; i < src->n; i++) {
            const entry_t *e = &src->u.entries[i];
            dst->u.entries[i].klen = e->klen;
            dst->u.entries[i].key = memcpy(arena_alloc(a, e->klen), e->key, e->klen);
            copy_value(a, &dst->u.entries[i].val, &e->val);
        }
        break;
    }
}

/* An error result written straight into the batch (reply_error's buffer may be in use). */
static void add_error(batch_t *b, int64_t id, const char *code, int err, const char *message) {
    coll_t m = enc_map_open(&b->results);
    enc_key(&m, "t");
    enc_str(&b->results, "res");
    enc_key(&m, "id");
    enc_int(&b->results, id);
    enc_key(&m, "ok");
    enc_bool(&b->results, 0);
    enc_key(&m, "error");
    coll_t e = enc_map_open(&b->results);
    enc_key(&e, "code");
    enc_str(&b->results, code);
    enc_key(&e, "errno");
    enc_int(&b->results, err);
    enc_key(&e, "message");
    enc_str(&b->results, message);
    enc_close(&e);
    enc_close(&m);
}

/* proto.c's sink for answers to internal ids. */
static void on_answer(int64_t id, const uint8_t *msg, size_t n) {
    for (batch_t *b = batches; b; b = b->next) {
        if (b->waiting != id) continue;
        b->waiting = 0;
        if (buf_size(&b->results) + n > RESULTS_MAX) {
            char text[200];
            snprintf(text, sizeof text, "batch: op %u's result of %zu bytes would take the answer past %u bytes: split the batch",
                     b->next_op, n, RESULTS_MAX);
            add_error(b, id, "E2BIG", E2BIG, text);
        } else {
            buf_append(&b->results, msg, n);
        }
        return;
    }
    /* an answer to a batch dropped with its session: nobody waits for it */
}

static void start_op(batch_t *b, const value_t *op, int64_t id) {
    const value_t *name = op->type == V_MAP ? map_get(op, "op") : NULL;
    char text[300];
    if (!name || name->type != V_STR) {
        snprintf(text, sizeof text, "batch: op %u is not a map with an 'op' string", b->next_op);
        add_error(b, id, "EINVAL", EINVAL, text);
        return;
    }
    req_t r = {id, arena_strdup(&b->arena, name), op, &b->arena};
    for (size_t i = 0; i < sizeof batch_ops / sizeof batch_ops[0]; i++)
        if (!strcmp(batch_ops[i].name, r.op)) {
            b->waiting = id;
            batch_ops[i].fn(&r);
            return;
        }
    snprintf(text, sizeof text, "batch: op %u: '%s' cannot run in a batch (exec, read_file, write_file, stat, listdir, mkdir, unlink, rename, syscall can)",
             b->next_op, r.op);
    add_error(b, id, "ENOSYS", ENOSYS, text);
}

static void drop(batch_t *b) {
    for (batch_t **pp = &batches; *pp; pp = &(*pp)->next)
        if (*pp == b) {
            *pp = b->next;
            break;
        }
    arena_free(&b->arena);
    buf_free(&b->results);
    free(b);
}

static void answer(batch_t *b) {
    coll_t m = resp_ok(b->id);
    enc_key(&m, "results");
    coll_t a = enc_array_open(m.b);
    for (uint32_t i = 0; i < b->ops.n; i++) enc_array_item(&a);
    buf_append(m.b, buf_head(&b->results), buf_size(&b->results));
    enc_close(&a);
    proto_send(&m);
    drop(b);
}

/* Starts ops until one has to be waited for; answers the host once all have answered. */
static void advance(batch_t *b) {
    while (!b->waiting && b->next_op < b->ops.n) {
        const value_t *op = &b->ops.u.items[b->next_op++];
        start_op(b, op, next_internal--);
    }
    if (!b->waiting) answer(b);
}

void op_batch(const req_t *r) {
    const value_t *ops = map_get(r->msg, "ops");
    if (!ops || ops->type != V_ARRAY) {
        reply_error(r->id, "EINVAL", EINVAL, "batch: argument 'ops' must be an array of op maps");
        return;
    }
    proto_internal_sink = on_answer;
    batch_t *b = calloc(1, sizeof *b);
    if (!b) abort();
    b->id = r->id;
    copy_value(&b->arena, &b->ops, ops);
    b->next = batches;
    batches = b;
    advance(b);
}

void batches_resume(void) {
    for (batch_t *b = batches, *next; b; b = next) {
        next = b->next;
        if (!b->waiting) advance(b);
    }
}

void batches_drop_all(void) {
    while (batches) drop(batches);
}
