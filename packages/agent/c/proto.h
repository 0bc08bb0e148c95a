/* Messages of the protocol: reading request arguments, writing responses and
 * events. Every request gets exactly one response (ok or error). */
#ifndef PROVIUM_PROTO_H
#define PROVIUM_PROTO_H

#include "conn.h"
#include "value.h"

#ifndef AGENT_PROTOCOL_VERSION
#define AGENT_PROTOCOL_VERSION 2
#endif

/* Caps an exec's collected stdout/stderr (each) and read_file/read sizes. */
#define MAX_COLLECT (64u * 1024 * 1024)

typedef struct {
    int64_t id;
    const char *op;
    const value_t *msg;
    arena_t *arena;
} req_t;

extern conn_t *proto_conn;
/* Answers to internal requests (negative ids: batch.c runs its ops under them)
 * go to this sink, not to the host. */
extern void (*proto_internal_sink)(int64_t id, const uint8_t *msg, size_t n);

/* Response map {t="res", id=, ok=true, ...}: add keys, then proto_send(). */
coll_t resp_ok(int64_t id);
/* Event map {t="ev", ev=, proc=, ...}: add keys, then proto_send(). */
coll_t event_begin(const char *ev, int64_t proc);
/* The same with the id under another key: {t="ev", ev=, <key>=id}. */
coll_t event_begin_for(const char *ev, const char *key, int64_t id);
void proto_send(coll_t *m);
/* An empty ok response. */
void reply_ok(const req_t *r);
/* Error from errno, naming the path(s) involved. */
void reply_errno(const req_t *r, int err, const char *path, const char *path2);
/* Error with an explicit code (EINVAL, EPROTO, ...) and message. */
void reply_error(int64_t id, const char *code, int err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Argument readers: 0 on success; on a missing (when required) or mistyped
 * argument they send the error response themselves and return -1. */
int arg_str(const req_t *r, const char *key, int required, char **out);
int arg_bytes(const req_t *r, const char *key, int required, const uint8_t **p, size_t *n);
int arg_int(const req_t *r, const char *key, int required, int64_t *out);
int arg_bool(const req_t *r, const char *key, int *out);
/* NULL-terminated array of strings; *out stays NULL when absent. */
int arg_str_array(const req_t *r, const char *key, char ***out);

#endif
