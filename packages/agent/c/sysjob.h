/* One host syscall: its number, arguments and buffers, how it is run (on the
 * calling thread, with a deadline) and how its answer is written. */
#ifndef PROVIUM_SYSJOB_H
#define PROVIUM_SYSJOB_H

#include "proto.h"
#include "sysmem.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#define SC_MAX_BUFS 16
#define SC_MAX_NESTED 64
/* A vm:syscall that has not returned after this long is interrupted (EINTR). */
#define SC_DEFAULT_TIMEOUT_MS 10000

typedef struct sc_job {
    int64_t req_id;
    int64_t call_id; /* the host's id of an async call (syscall_cancel) */
    int64_t nr, a[6];
    int nbufs;
    sysbuf_t bufs[SC_MAX_BUFS];
    int64_t timeout_ms; /* 0: none (syscall_async without a timeout) */
    int64_t ret;
    int err;
    /* syscall_async only: owned by sysasync.c */
    pthread_t thread;
    timer_t timer;
    int has_timer, running, cancelled, orphan, abandoned;
    int64_t due_ms; /* monotonic ms after which the main loop stops waiting for the call (0: never) */
    struct sc_job *next;
} sc_job_t;

/* Parses nr, args, bufs, ptrs, nested and timeout of a `syscall` request into
 * `j` (buffers allocated and pointers placed). 0, or -1 after answering the
 * error itself (and freeing what it allocated). */
int sc_job_parse(const req_t *r, sc_job_t *j);
/* Refuses (answering with the reason, -1) or makes the call (0). `timer`: a
 * timer that signals the calling thread, armed for the job's timeout. */
int sc_job_check(int64_t req_id, const sc_job_t *j);
void sc_job_run(sc_job_t *j, timer_t timer);
/* Adds `out_bufs` to answer `m`: the job's buffers from `from` on, as they are after the call. */
void sc_enc_out_bufs(coll_t *m, const sc_job_t *j, int from);
/* Answers {ret, errno, out_bufs} to request `req_id`. */
void sc_job_reply(const sc_job_t *j);
void sc_job_free(sc_job_t *j);

/* The signal that interrupts a call at its deadline; blocked outside calls. */
int sc_interrupt_signal(void);
/* Arms `t` to fire after `ms`, then every 50 ms until disarmed (ms 0: disarm). */
void sc_arm(timer_t t, int64_t ms);
/* A timer that signals the calling thread. 0, or -1 with errno. */
int sc_thread_timer(timer_t *t);

#endif
