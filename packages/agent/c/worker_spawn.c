#include "worker_spawn.h"

#include "log.h"
#include "worker_privs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_GROUPS 64

/* What the worker runs as: from the request, filled in from /etc/passwd and /etc/group. */
typedef struct {
    int set_uid;
    uid_t uid;
    gid_t gid;
    gid_t groups[MAX_GROUPS];
    int ngroups; /* -1: keep the agent's */
    char name[64], home[256];
} creds_t;

/* The passwd line of `uid`, read directly: the static agent has no NSS modules
 * to load in a minimal guest. 0 when found. */
static int passwd_entry(uid_t uid, creds_t *c) {
    FILE *f = fopen("/etc/passwd", "re");
    if (!f) return -1;
    char line[1024];
    int found = -1;
    while (found < 0 && fgets(line, sizeof line, f)) {
        char *save, *name = strtok_r(line, ":", &save), *pw = strtok_r(NULL, ":", &save);
        char *u = strtok_r(NULL, ":", &save), *g = strtok_r(NULL, ":", &save);
        char *gecos = strtok_r(NULL, ":", &save), *home = gecos ? strtok_r(NULL, ":", &save) : NULL;
        (void)pw;
        if (!name || !u || !g || (uid_t)strtoul(u, NULL, 10) != uid) continue;
        snprintf(c->name, sizeof c->name, "%s", name);
        snprintf(c->home, sizeof c->home, "%s", home ? home : "/");
        c->gid = (gid_t)strtoul(g, NULL, 10);
        found = 0;
    }
    fclose(f);
    return found;
}

/* The groups of /etc/group that list `name` as a member (as initgroups(3) would). */
static void member_groups(const char *name, creds_t *c) {
    FILE *f = fopen("/etc/group", "re");
    c->ngroups = 0;
    if (!f) return;
    char line[4096];
    while (c->ngroups < MAX_GROUPS && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *save, *gname = strtok_r(line, ":", &save), *pw = strtok_r(NULL, ":", &save);
        char *g = strtok_r(NULL, ":", &save), *members = strtok_r(NULL, ":", &save);
        (void)gname, (void)pw;
        if (!g || !members) continue;
        char *msave;
        for (char *m = strtok_r(members, ",", &msave); m; m = strtok_r(NULL, ",", &msave))
            if (!strcmp(m, name)) {
                c->groups[c->ngroups++] = (gid_t)strtoul(g, NULL, 10);
                break;
            }
    }
    fclose(f);
}

static int id_arg(const req_t *r, const char *key, int *given, int64_t *out) {
    *given = 0;
    if (!map_get(r->msg, key)) return 0;
    if (arg_int(r, key, 0, out)) return -1;
    if (*out < 0 || *out > 0xfffffffe) {
        reply_error(r->id, "EINVAL", EINVAL, "%s: '%s' must be an id from 0 to 4294967294, got %lld", r->op, key,
                    (long long)*out);
        return -1;
    }
    *given = 1;
    return 0;
}

/* uid → gid (its passwd entry's, else the same number) → groups (the user's, else none). */
static int creds_from(const req_t *r, creds_t *c) {
    memset(c, 0, sizeof *c);
    c->ngroups = -1;
    int has_uid, has_gid;
    int64_t uid, gid;
    if (id_arg(r, "uid", &has_uid, &uid) || id_arg(r, "gid", &has_gid, &gid)) return -1;
    const value_t *groups = map_get(r->msg, "groups");
    if (groups && groups->type != V_NIL && groups->type != V_ARRAY) {
        reply_error(r->id, "EINVAL", EINVAL, "%s: 'groups' must be a list of group ids", r->op);
        return -1;
    }
    c->set_uid = has_uid;
    c->uid = has_uid ? (uid_t)uid : getuid();
    int known = has_uid && passwd_entry(c->uid, c) == 0;
    if (has_uid && !known) c->gid = (gid_t)uid;
    if (!has_uid) c->gid = getgid();
    if (has_gid) c->gid = (gid_t)gid;
    if (groups && groups->type == V_ARRAY) {
        if (groups->n > MAX_GROUPS) {
            reply_error(r->id, "EINVAL", EINVAL, "%s: 'groups' has %u ids; at most %d", r->op, groups->n, MAX_GROUPS);
            return -1;
        }
        for (uint32_t i = 0; i < groups->n; i++) {
            const value_t *g = &groups->u.items[i];
            if (g->type != V_INT || g->u.i < 0 || g->u.i > 0xfffffffe) {
                reply_error(r->id, "EINVAL", EINVAL, "%s: item %u of 'groups' must be a group id from 0 to 4294967294", r->op, i + 1);
                return -1;
            }
            c->groups[i] = (gid_t)g->u.i;
        }
        c->ngroups = (int)groups->n;
    } else if (has_uid) {
        if (known) member_groups(c->name, c);
        else c->ngroups = 0;
    }
    return 0;
}

/* Written by the child when a step before exec fails; EOF means it exec'd. */
struct spawn_failure {
    int err;
    char step[64];
};

static void fail(int pipe_fd, int err, const char *step) {
    struct spawn_failure f = {.err = err};
    snprintf(f.step, sizeof f.step, "%s", step);
    if (write(pipe_fd, &f, sizeof f) < 0) {}
    _exit(127);
}

static void child(const req_t *r, const creds_t *c, const privs_t *pv, int chan, int errfd, const char *exe, const char *cwd,
                  int64_t id) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setsid();
    /* The worker serves the protocol on its stdin/stdout (`--worker`). */
    if (dup2(chan, 0) < 0 || dup2(chan, 1) < 0) fail(errfd, errno, "dup2");
    char step[64];
    if (privs_before_setuid(pv, step, sizeof step) < 0) fail(errfd, errno, step);
    if (c->ngroups >= 0 && setgroups((size_t)c->ngroups, c->groups) < 0) fail(errfd, errno, "setgroups");
    snprintf(step, sizeof step, "setgid(%u)", (unsigned)c->gid);
    if (setgid(c->gid) < 0) fail(errfd, errno, step);
    snprintf(step, sizeof step, "setuid(%u)", (unsigned)c->uid);
    if (c->set_uid && setuid(c->uid) < 0) fail(errfd, errno, step);
    if (privs_after_setuid(pv, step, sizeof step) < 0) fail(errfd, errno, step);
    if (cwd && chdir(cwd) < 0) fail(errfd, errno, "chdir");
    if (c->set_uid) {
        /* what login(1) or su - would set for the user */
        setenv("HOME", c->home[0] ? c->home : "/", 1);
        if (c->name[0]) setenv("USER", c->name, 1), setenv("LOGNAME", c->name, 1);
    }
    const value_t *env = map_get(r->msg, "env");
    for (uint32_t k = 0; env && env->type == V_MAP && k < env->n; k++) {
        const entry_t *e = &env->u.entries[k];
        char *name = strndup((const char *)e->key, e->klen), *val = strndup((const char *)e->val.u.bytes, e->val.n);
        if (setenv(name, val, 1) < 0) fail(errfd, errno, "setenv");
    }
    /* beside the agent's own log (a worker that may not write there logs nothing) */
    char log[600];
    snprintf(log, sizeof log, "%s.worker-%lld", log_path(), (long long)id);
    execl(exe, exe, "--worker", "--log", log, (char *)NULL);
    fail(errfd, errno, "exec");
}

static int env_ok(const req_t *r) {
    const value_t *env = map_get(r->msg, "env");
    if (!env || env->type == V_NIL) return 1;
    if (env->type != V_MAP) {
        reply_error(r->id, "EINVAL", EINVAL, "%s: 'env' must be a map of names to strings", r->op);
        return 0;
    }
    for (uint32_t k = 0; k < env->n; k++) {
        const entry_t *e = &env->u.entries[k];
        if (!e->klen || memchr(e->key, '=', e->klen) || memchr(e->key, 0, e->klen) ||
            (e->val.type != V_STR && e->val.type != V_BYTES) || memchr(e->val.u.bytes, 0, e->val.n)) {
            reply_error(r->id, "EINVAL", EINVAL,
                        "%s: env entry '%.*s' needs a non-empty name without '=' and a string value without NUL bytes",
                        r->op, (int)e->klen, (const char *)e->key);
            return 0;
        }
    }
    return 1;
}

pid_t worker_start(const req_t *r, int64_t id, int *fd) {
    creds_t c;
    privs_t pv;
    char *cwd = NULL;
    if (creds_from(r, &c) || privs_from(r, &pv) || arg_str(r, "cwd", 0, &cwd) || !env_ok(r)) return -1;
    char exe[512];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0) {
        reply_errno(r, errno, "/proc/self/exe", NULL);
        return -1;
    }
    exe[n] = 0;
    int sv[2], ep[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        reply_errno(r, errno, NULL, NULL);
        return -1;
    }
    if (pipe2(ep, O_CLOEXEC) < 0) {
        reply_errno(r, errno, NULL, NULL);
        close(sv[0]), close(sv[1]);
        return -1;
    }
    /* fork, not vfork: the child reads files and sets up its environment. */
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        close(ep[0]);
        child(r, &c, &pv, sv[1], ep[1], exe, cwd, id);
    }
    int fork_err = errno;
    close(sv[1]);
    close(ep[1]);
    struct spawn_failure f;
    ssize_t got = pid > 0 ? read(ep[0], &f, sizeof f) : 0;
    close(ep[0]);
    if (pid < 0 || got == (ssize_t)sizeof f) {
        close(sv[0]);
        if (pid < 0) {
            reply_errno(r, fork_err, NULL, NULL);
        } else {
            waitpid(pid, NULL, 0);
            const char *code = strerrorname_np(f.err);
            if (!strcmp(f.step, "chdir"))
                reply_error(r->id, code ? code : "EUNKNOWN", f.err, "%s: cwd '%s': %s", r->op, cwd, strerror(f.err));
            else
                reply_error(r->id, code ? code : "EUNKNOWN", f.err, "%s: %s failed: %s", r->op, f.step, strerror(f.err));
        }
        return -1;
    }
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    *fd = sv[0];
    logmsg("worker %lld started: pid %d, uid %u, gid %u", (long long)id, (int)pid, (unsigned)c.uid, (unsigned)c.gid);
    return pid;
}
