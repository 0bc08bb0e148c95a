/* Starting a command: its argv and environment from the request, its pipes,
 * vfork + exec. proc.c keeps the process once it runs. */
#ifndef PROVIUM_LAUNCH_H
#define PROVIUM_LAUNCH_H

#include "proto.h"

#include <sys/types.h>

/* When a traced exec (the host's `trace`) reached the steps of its start, in monotonic ns. */
typedef struct {
    int64_t start;   /* the request was decoded */
    int64_t forking; /* argv, env and pipes are ready: vfork */
    int64_t forked;  /* vfork returned: the child has exec'd (or failed to) */
} launch_times_t;

/*
 * Starts the command of `r`. On success returns its pid, with the agent's
 * ends of its pipes in ours[] (stdin: the write end, or -1 without
 * `stdin_pipe`; stdout, stderr: the read ends; all non-blocking) and the
 * program's name in *prog. On failure answers the request itself and returns
 * -1. `keep_outputs` (an exec, answered at the exit, not at end of output):
 * the agent keeps the child's ends of stdout/stderr open until it tidies up
 * after the answer (pipes.h). `times`: NULL, or filled for a traced exec.
 */
pid_t launch(const req_t *r, int stdin_pipe, int keep_outputs, int ours[3], const char **prog, launch_times_t *times);

/* An exec begins (+1) or ends (-1): the agent is SCHED_BATCH while any runs (launch.c says why). */
void launch_count_execs(int delta);
/* Execs whose answer is still to come. */
int launch_execs_running(void);


#endif
