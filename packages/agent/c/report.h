/* What the host hears of a process's end: the exit fields of an exec's answer
 * or an exit event, and a traced exec's timeline. */
#ifndef PROVIUM_REPORT_H
#define PROVIUM_REPORT_H

#include "launch.h"
#include "value.h"

/* status, exit_code, signal */
void encode_exit(coll_t *m, int wstatus, int timed_out);
/* trace: {prep_ns, spawn_ns, wait_ns, reply_ns}; `exited`: when the agent took up the exit. */
void encode_trace(coll_t *m, const launch_times_t *t, int64_t exited);

#endif
