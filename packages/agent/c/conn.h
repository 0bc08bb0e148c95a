/* The one connection to the host: a virtio-serial port found by name, a unix
 * socket the agent connects to (host tests), or stdin/stdout. Reassembles
 * frames (magic + u32 BE length + payload) and resynchronises after garbage. */
#ifndef PROVIUM_CONN_H
#define PROVIUM_CONN_H

#include "buf.h"
#include "pollset.h"

#include <stddef.h>
#include <stdint.h>

#define FRAME_MAGIC "PVAG"
#define FRAME_HEADER 8
#define MAX_FRAME (128u * 1024 * 1024)

typedef enum { MODE_PORT, MODE_UNIX, MODE_STDIO } conn_mode_t;
typedef enum { CS_DOWN, CS_WAIT_HOST, CS_UP } conn_state_t;

typedef struct {
    conn_mode_t mode;
    const char *target; /* port name or socket path */
    int rfd, wfd;
    conn_state_t state;
    int64_t retry_at;
    buf_t in, out;
    size_t garbage;   /* bytes skipped in the current run of garbage */
    int quiet;        /* a "still waiting" condition was already logged */
    int write_errno;  /* a write failed inside a handler; taken down by conn_prepare */
    void (*on_frame)(const uint8_t *payload, size_t n);
    void (*on_down)(void); /* the host is gone: drop session state */
} conn_t;

void conn_init(conn_t *c, conn_mode_t mode, const char *target,
               void (*on_frame)(const uint8_t *, size_t), void (*on_down)(void));
/* (Re)connects when due and registers the connection's fds. */
void conn_prepare(conn_t *c, pollset_t *ps, int64_t now);
void conn_handle(conn_t *c, short revents);
/* SIGIO: the host may have connected to a waiting port; check it at once. */
void conn_host_event(conn_t *c);
/* Queues one frame carrying `payload` (dropped while no host is connected). */
void conn_send(conn_t *c, const buf_t *payload);
/* Sends a {t="notice", message=...} frame and logs it. */
void conn_notice(conn_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline size_t conn_pending(const conn_t *c) { return buf_size(&c->out); }

#endif
