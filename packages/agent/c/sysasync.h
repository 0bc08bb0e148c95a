/* syscall_async: each call on a thread of its own, answered from the main
 * loop when it returns; cancelled by `syscall_cancel` or when the host goes. */
#ifndef PROVIUM_SYSASYNC_H
#define PROVIUM_SYSASYNC_H

#include "pollset.h"
#include "sysjob.h"

/* Calls that may be in flight at once (docs/limits.md). */
#define SC_MAX_ASYNC 64
/* A call still running this long after its timeout (or its cancel) ignores
 * signals: it is answered ETIMEDOUT and its thread left to finish alone. */
#define SC_ABANDON_GRACE_MS 2000

/* Starts `j` (taken over: freed when answered). 0, or -1 after answering the error. */
int sysasync_start(sc_job_t *j);
/* Interrupts the call the host named `call_id`; 1 if one was in flight. */
int sysasync_cancel(int64_t call_id);
/* The main loop: watch for finished calls, and answer them (and those past
 * their grace). `now`: monotonic ms. */
void sysasync_prepare(pollset_t *ps, int64_t now);
void sysasync_handle(void);
/* The host went away: interrupt every call and drop its answer. */
void sysasync_orphan_all(void);

#endif
