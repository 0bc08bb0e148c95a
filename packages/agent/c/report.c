#include "report.h"

#include "pollset.h"
#include "signames.h"

#include <stdio.h>
#include <sys/wait.h>

void encode_exit(coll_t *m, int wstatus, int timed_out) {
    char signame[16];
    const char *status = "exited", *sig = NULL;
    int code = 0;
    if (timed_out) {
        status = "timed_out";
        code = -2;
        sig = "kill";
    } else if (WIFSIGNALED(wstatus)) {
        status = "signalled";
        code = -1;
        sig = signal_name(WTERMSIG(wstatus));
        if (!sig) {
            snprintf(signame, sizeof signame, "%d", WTERMSIG(wstatus));
            sig = signame;
        }
    } else {
        code = WEXITSTATUS(wstatus);
    }
    enc_key(m, "status");
    enc_str(m->b, status);
    enc_key(m, "exit_code");
    enc_int(m->b, code);
    enc_key(m, "signal");
    if (sig) enc_str(m->b, sig);
    else enc_nil(m->b);
}

void encode_trace(coll_t *m, const launch_times_t *t, int64_t exited) {
    enc_key(m, "trace");
    coll_t tr = enc_map_open(m->b);
    enc_key(&tr, "prep_ns"); /* decoded request -> vfork: argv, env, pipes */
    enc_int(m->b, t->forking - t->start);
    enc_key(&tr, "spawn_ns"); /* vfork -> the child exec'd */
    enc_int(m->b, t->forked - t->forking);
    enc_key(&tr, "wait_ns"); /* -> the agent takes up its exit */
    enc_int(m->b, exited - t->forked);
    enc_key(&tr, "reply_ns"); /* -> its output collected and the answer encoded */
    enc_int(m->b, now_ns() - exited);
    enc_close(&tr);
}
