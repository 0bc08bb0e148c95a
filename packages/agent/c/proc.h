/* Child processes: `exec` (collects output, answers once at exit) and
 * `spawn` (streams data/eof/exit events). Pipes are non-blocking and served by
 * the event loop, so a long command never blocks other requests. */
#ifndef PROVIUM_PROC_H
#define PROVIUM_PROC_H

#include "pollset.h"
#include "proto.h"

void op_exec(const req_t *r);
void op_spawn(const req_t *r);
void op_proc_write(const req_t *r);
void op_proc_close_stdin(const req_t *r);
void op_proc_kill(const req_t *r);

/* `stream_paused`: the host is not reading; leave spawned output in the pipes. */
void procs_prepare(pollset_t *ps, int64_t now, int stream_paused);
void procs_handle(enum slot_kind kind, int64_t id, short revents);
/* Kills execs whose timeout passed. */
void procs_check_deadlines(int64_t now);
/* Collects exited children (SIGCHLD arrived). */
void procs_reap(void);
/* The host went away: keep the processes running but stop reporting on them. */
void procs_orphan_all(void);

#endif
