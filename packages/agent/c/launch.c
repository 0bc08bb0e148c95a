#include "launch.h"

#include "pipes.h"
#include "pollset.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/*
 * While an exec's command runs, the agent is SCHED_BATCH, which does not
 * preempt the running task when it wakes. A short command wakes the agent at
 * its exec, when its pipes close and when it is reaped; each preemption is a
 * switch of address space, and under TCG every such switch flushes QEMU's
 * whole TLB and jump cache. As BATCH the agent mostly runs once the command
 * is gone (vm:run("true"): ~5.9 -> 3.0-3.4 agent context switches; see
 * docs/agent.md). Only while an exec runs (the host waits for its answer
 * anyway): an idle agent preempts as before, so a busy guest answers other
 * ops at once. Commands run under the agent's own policy (start_child puts
 * it back: SCHED_RESET_ON_FORK resets only realtime policies). Nothing of
 * this when the agent was not started SCHED_OTHER.
 */
static int execs_running, batch_on;
static int batch_ok = -1; /* unknown yet; then: the agent runs SCHED_OTHER */

void launch_count_execs(int delta) {
    if (batch_ok < 0) batch_ok = sched_getscheduler(0) == SCHED_OTHER;
    execs_running += delta;
    int want = batch_ok && execs_running > 0;
    if (want == batch_on) return;
    struct sched_param sp = {0};
    if (sched_setscheduler(0, want ? SCHED_BATCH : SCHED_OTHER, &sp) == 0) batch_on = want;
}

int launch_execs_running(void) { return execs_running; }

/* Written by a child whose chdir or exec failed, read by the agent after vfork returns. */
struct exec_failure {
    int failed;
    int in_cwd; /* 1: chdir failed, 0: execvp failed */
    int err;
};

static char **build_env(const req_t *r) {
    const value_t *env = map_get(r->msg, "env");
    size_t base = 0;
    while (environ[base]) base++;
    size_t extra = env && env->type == V_MAP ? env->n : 0;
    char **out = arena_alloc(r->arena, (base + extra + 1) * sizeof *out);
    size_t n = 0;
    for (size_t i = 0; i < base; i++) {
        int overridden = 0;
        for (uint32_t k = 0; k < extra && !overridden; k++) {
            const entry_t *e = &env->u.entries[k];
            overridden = strncmp(environ[i], (const char *)e->key, e->klen) == 0 && environ[i][e->klen] == '=';
        }
        if (!overridden) out[n++] = environ[i];
    }
    for (uint32_t k = 0; k < extra; k++) {
        const entry_t *e = &env->u.entries[k];
        const value_t *v = &e->val;
        if (!e->klen || memchr(e->key, '=', e->klen) || memchr(e->key, 0, e->klen) ||
            (v->type != V_STR && v->type != V_BYTES) || memchr(v->u.bytes, 0, v->n)) {
            reply_error(r->id, "EINVAL", EINVAL,
                        "%s: env entry '%.*s' needs a non-empty name without '=' and a string value without NUL bytes",
                        r->op, (int)e->klen, (const char *)e->key);
            return NULL;
        }
        char *s = arena_alloc(r->arena, e->klen + v->n + 2);
        memcpy(s, e->key, e->klen);
        s[e->klen] = '=';
        memcpy(s + e->klen + 1, v->u.bytes, v->n);
        s[e->klen + 1 + v->n] = 0;
        out[n++] = s;
    }
    out[n] = NULL;
    return out;
}

static char **build_argv(const req_t *r) {
    char **argv = NULL, **args = NULL, *cmd = NULL;
    if (arg_str_array(r, "argv", &argv) || arg_str(r, "cmd", 0, &cmd) || arg_str_array(r, "args", &args))
        return NULL;
    if (!argv == !cmd) {
        reply_error(r->id, "EINVAL", EINVAL, "%s: give exactly one of 'argv' (a list) or 'cmd' (a shell command)", r->op);
        return NULL;
    }
    if (argv) {
        if (!argv[0]) reply_error(r->id, "EINVAL", EINVAL, "%s: 'argv' is empty", r->op);
        if (args && argv[0]) reply_error(r->id, "EINVAL", EINVAL, "%s: 'args' goes with 'cmd', not 'argv'", r->op);
        return argv[0] && !args ? argv : NULL;
    }
    size_t nargs = 0;
    while (args && args[nargs]) nargs++;
    char **sh = arena_alloc(r->arena, (nargs + 5) * sizeof *sh);
    sh[0] = "/bin/sh";
    sh[1] = "-c";
    sh[2] = cmd;
    sh[3] = "sh"; /* $0 */
    for (size_t i = 0; i < nargs; i++) sh[4 + i] = args[i];
    sh[4 + nargs] = NULL;
    return sh;
}

/*
 * vfork + exec: no copy of the agent's page tables and no copy-on-write faults
 * after it, which under TCG was most of a command's cost (a `true` went from
 * ~7.6 to ~3 ms). The child only changes its own process state (session, signal
 * mask and handlers, fds, cwd) before it execs or _exits; it lives in a function
 * of its own so that no variable of the caller is live across the vfork.
 * The agent sleeps until the child has exec'd or exited, so a failed chdir or
 * exec is reported in the agent's memory, as glibc's posix_spawn does: no pipe
 * to create, read and close on every command.
 */
static pid_t __attribute__((noinline)) start_child(char **argv, char **envp, const char *cwd, const int child[3],
                                                    volatile struct exec_failure *fail, int batch) {
    pid_t pid = vfork();
    if (pid != 0) return pid;
    if (batch) {
        struct sched_param sp = {0};
        sched_setscheduler(0, SCHED_OTHER, &sp);
    }
    setsid();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL); /* SIGPIPE too: the agent blocks it rather than ignore it (main.c) */
    for (int s = 0; s < 3; s++) dup2(child[s], s);
    int in_cwd = cwd && chdir(cwd) != 0;
    if (!in_cwd) execvpe(argv[0], argv, envp); /* searches the requested PATH */
    fail->err = errno;
    fail->in_cwd = in_cwd;
    fail->failed = 1;
    _exit(127);
}

/* Read end of /dev/null for commands without stdin, opened once. */
static int dev_null(void) {
    static int fd = -1;
    if (fd < 0) fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd;
}

pid_t launch(const req_t *r, int stdin_pipe, int keep_outputs, int ours[3], const char **prog, launch_times_t *times) {
    char **argv = build_argv(r);
    if (!argv) return -1;
    char **envp = build_env(r);
    if (!envp) return -1;
    char *cwd = NULL;
    if (arg_str(r, "cwd", 0, &cwd)) return -1;

    /* child[]: the child's ends; ours[]: the agent's ends */
    int child[3] = {-1, -1, -1};
    ours[0] = ours[1] = ours[2] = -1;
    int ok = 1;
    if (stdin_pipe) {
        int p[2];
        ok = pipes_input(p) == 0;
        if (ok) child[0] = p[0], ours[0] = p[1];
    }
    for (int s = 1; ok && s <= 2; s++) {
        int p[2];
        ok = pipes_output(s - 1, p) == 0;
        if (ok) ours[s] = p[0], child[s] = p[1];
    }
    int in = stdin_pipe ? child[0] : dev_null();
    ok = ok && in >= 0;
    struct exec_failure f = {0, 0, 0};
    if (times) times->forking = now_ns();
    pid_t pid = ok ? start_child(argv, envp, cwd, (const int[3]){in, child[1], child[2]}, &f, batch_on) : -1;
    int fork_errno = errno;
    if (times) times->forked = now_ns();
    close_fd(&child[0]);
    if (keep_outputs && pid > 0 && !f.failed) {
        /* Open until after the answer: no end-of-file wake-up, no close on the way to it. */
        pipes_retire(child[1]);
        pipes_retire(child[2]);
        child[1] = child[2] = -1;
    }
    close_fd(&child[1]);
    close_fd(&child[2]);
    if (pid < 0 || f.failed) {
        for (int s = 0; s < 3; s++) close_fd(&ours[s]);
        if (pid > 0) {
            waitpid(pid, NULL, 0);
            reply_errno(r, f.err, f.in_cwd ? cwd : argv[0], NULL);
        } else {
            reply_errno(r, fork_errno, argv[0], NULL);
        }
        return -1;
    }
    *prog = argv[0];
    return pid;
}
