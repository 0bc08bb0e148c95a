#include "proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

conn_t *proto_conn;
void (*proto_internal_sink)(int64_t id, const uint8_t *msg, size_t n);
static buf_t scratch;
static int64_t answering; /* the request id of the response in scratch; 0 for an event */

static coll_t begin(const char *t) {
    buf_clear(&scratch);
    coll_t m = enc_map_open(&scratch);
    enc_key(&m, "t");
    enc_str(&scratch, t);
    return m;
}

coll_t resp_ok(int64_t id) {
    coll_t m = begin("res");
    answering = id;
    enc_key(&m, "id");
    enc_int(&scratch, id);
    enc_key(&m, "ok");
    enc_bool(&scratch, 1);
    return m;
}

coll_t event_begin_for(const char *ev, const char *key, int64_t id) {
    coll_t m = begin("ev");
    answering = 0;
    enc_key(&m, "ev");
    enc_str(&scratch, ev);
    enc_key(&m, key);
    enc_int(&scratch, id);
    return m;
}

coll_t event_begin(const char *ev, int64_t proc) { return event_begin_for(ev, "proc", proc); }

void proto_send(coll_t *m) {
    enc_close(m);
    if (answering < 0 && proto_internal_sink) proto_internal_sink(answering, buf_head(&scratch), buf_size(&scratch));
    else conn_send(proto_conn, &scratch);
    /* a 4 MB stdout should not pin 4 MB of scratch forever */
    if (scratch.cap > 1024 * 1024) buf_free(&scratch);
}

void reply_ok(const req_t *r) {
    coll_t m = resp_ok(r->id);
    proto_send(&m);
}

static void send_error(int64_t id, const char *code, int err, const char *message,
                       const char *path, const char *path2) {
    coll_t m = begin("res");
    answering = id;
    enc_key(&m, "id");
    enc_int(&scratch, id);
    enc_key(&m, "ok");
    enc_bool(&scratch, 0);
    enc_key(&m, "error");
    coll_t e = enc_map_open(&scratch);
    enc_key(&e, "code");
    enc_str(&scratch, code);
    enc_key(&e, "errno");
    enc_int(&scratch, err);
    enc_key(&e, "message");
    enc_str(&scratch, message);
    if (path) {
        enc_key(&e, "path");
        enc_str(&scratch, path);
    }
    if (path2) {
        enc_key(&e, "path2");
        enc_str(&scratch, path2);
    }
    enc_close(&e);
    proto_send(&m);
}

void reply_errno(const req_t *r, int err, const char *path, const char *path2) {
    const char *code = strerrorname_np(err);
    send_error(r->id, code ? code : "EUNKNOWN", err, strerror(err), path, path2);
}

void reply_error(int64_t id, const char *code, int err, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    send_error(id, code, err, msg, NULL, NULL);
}

static const char *type_name(int t) {
    static const char *names[] = {"nil", "false", "true", "int", "bytes", "string", "array", "map"};
    return t >= 0 && t <= V_MAP ? names[t] : "?";
}

static const value_t *lookup(const req_t *r, const char *key, int required, int ok1, int ok2,
                             const char *want) {
    const value_t *v = map_get(r->msg, key);
    if (v && v->type == V_NIL) v = NULL;
    if (!v) {
        if (required) reply_error(r->id, "EINVAL", EINVAL, "%s: missing argument '%s' (%s)", r->op, key, want);
        return NULL;
    }
    if (v->type != ok1 && v->type != ok2) {
        reply_error(r->id, "EINVAL", EINVAL, "%s: argument '%s' must be %s, got %s", r->op, key, want,
                    type_name(v->type));
        return NULL;
    }
    return v;
}

/* Sentinel distinguishing "absent" from "bad" without another out-param. */
static int absent_or_bad(const req_t *r, const char *key, int required) {
    const value_t *v = map_get(r->msg, key);
    return (v && v->type != V_NIL) || required ? -1 : 0;
}

int arg_str(const req_t *r, const char *key, int required, char **out) {
    const value_t *v = lookup(r, key, required, V_STR, V_BYTES, "a string");
    if (!v) return absent_or_bad(r, key, required);
    if (memchr(v->u.bytes, 0, v->n)) {
        reply_error(r->id, "EINVAL", EINVAL, "%s: argument '%s' contains a NUL byte", r->op, key);
        return -1;
    }
    *out = arena_strdup(r->arena, v);
    return 0;
}

int arg_bytes(const req_t *r, const char *key, int required, const uint8_t **p, size_t *n) {
    const value_t *v = lookup(r, key, required, V_BYTES, V_STR, "bytes");
    if (!v) return absent_or_bad(r, key, required);
    *p = v->u.bytes;
    *n = v->n;
    return 0;
}

int arg_int(const req_t *r, const char *key, int required, int64_t *out) {
    const value_t *v = lookup(r, key, required, V_INT, V_INT, "an integer");
    if (!v) return absent_or_bad(r, key, required);
    *out = v->u.i;
    return 0;
}

int arg_bool(const req_t *r, const char *key, int *out) {
    const value_t *v = lookup(r, key, 0, V_TRUE, V_FALSE, "a boolean");
    if (!v) return absent_or_bad(r, key, 0);
    *out = v->type == V_TRUE;
    return 0;
}

int arg_str_array(const req_t *r, const char *key, char ***out) {
    const value_t *v = lookup(r, key, 0, V_ARRAY, V_ARRAY, "an array of strings");
    if (!v) return absent_or_bad(r, key, 0);
    char **a = arena_alloc(r->arena, ((size_t)v->n + 1) * sizeof *a);
    for (uint32_t i = 0; i < v->n; i++) {
        const value_t *it = &v->u.items[i];
        if ((it->type != V_STR && it->type != V_BYTES) || memchr(it->u.bytes, 0, it->n)) {
            reply_error(r->id, "EINVAL", EINVAL, "%s: item %u of '%s' must be a string without NUL bytes",
                        r->op, i + 1, key);
            return -1;
        }
        a[i] = arena_strdup(r->arena, it);
    }
    a[v->n] = NULL;
    *out = a;
    return 0;
}
