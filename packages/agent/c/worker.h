/* Workers: second agent processes in the guest with credentials of their own.
 * A request carrying `worker = N` is relayed to worker N unchanged; what the
 * worker sends back (answers, process events, notices) reaches the host with
 * `worker = N` added. The channel to a worker is a socketpair it serves with
 * `--worker` (--stdio, serving what carries `worker`); closing our end makes it exit. */
#ifndef PROVIUM_WORKER_H
#define PROVIUM_WORKER_H

#include "pollset.h"
#include "proto.h"

#include <sys/types.h>

void op_worker_spawn(const req_t *r);
void op_worker_kill(const req_t *r);
void op_worker_join(const req_t *r);

/* A request with a `worker` key (other than the worker_* ops): relays the
 * frame `payload` to that worker and returns 1; 0 when it is not for a worker. */
int workers_relay(const req_t *r, const uint8_t *payload, size_t n);

/* This agent is a worker: requests relayed to it carry `worker` and are its own. */
void workers_relay_off(void);

void workers_prepare(pollset_t *ps);
void workers_handle(int64_t id, short revents);
/* procs_reap found a child that is not a command: maybe a worker. */
void workers_reaped(pid_t pid, int wstatus);
/* The host went away: workers are session state, ended with it. */
void workers_end_session(void);

#endif
