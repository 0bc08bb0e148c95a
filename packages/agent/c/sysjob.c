#include "sysjob.h"

#include "syspolicy.h"

#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The longest deadline a vm:syscall may ask for: the agent serves nothing else meanwhile. */
#define SC_MAX_SYNC_TIMEOUT_MS 60000

static int interrupt_sig;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void on_interrupt(int sig) { (void)sig; }

/* Runs on the main thread (the first syscall op): threads made later inherit the blocked mask. */
static void init_signal(void) {
    interrupt_sig = SIGRTMIN + 4;
    struct sigaction sa = {0};
    sa.sa_handler = on_interrupt; /* no SA_RESTART: the blocked call returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(interrupt_sig, &sa, NULL);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, interrupt_sig);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
}

int sc_interrupt_signal(void) {
    pthread_once(&once, init_signal);
    return interrupt_sig;
}

int sc_thread_timer(timer_t *t) {
    struct sigevent sev = {0};
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = sc_interrupt_signal();
    sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    return timer_create(CLOCK_MONOTONIC, &sev, t);
}

void sc_arm(timer_t t, int64_t ms) {
    /* repeats: a signal that lands just before the call enters the kernel is not the last */
    struct itimerspec its = {{0, ms ? 50 * 1000000L : 0}, {ms / 1000, (ms % 1000) * 1000000L}};
    timer_settime(t, 0, &its, NULL);
}

/* ---------------------------------------------------------------- parsing */

static int bad(const req_t *r, sc_job_t *j, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(const req_t *r, sc_job_t *j, const char *fmt, ...) {
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    reply_error(r->id, "EINVAL", EINVAL, "%s: %s", r->op, msg);
    sc_job_free(j);
    return -1;
}

static const value_t *array_arg(const req_t *r, const char *key, int *fail) {
    const value_t *v = map_get(r->msg, key);
    if (!v || v->type == V_NIL) return NULL;
    if (v->type != V_ARRAY) {
        reply_error(r->id, "EINVAL", EINVAL, "%s: '%s' must be an array", r->op, key);
        *fail = 1;
    }
    return v;
}

/* bufs: each item bytes (copied in) or an integer (that many zero bytes). */
static int parse_bufs(const req_t *r, sc_job_t *j, const value_t *bufs) {
    if (bufs->n > SC_MAX_BUFS) return bad(r, j, "at most %d buffers per call, got %u", SC_MAX_BUFS, bufs->n);
    size_t total = 0;
    for (uint32_t i = 0; i < bufs->n; i++) {
        const value_t *it = &bufs->u.items[i];
        int64_t len = it->type == V_INT ? it->u.i : (it->type == V_BYTES || it->type == V_STR) ? (int64_t)it->n : -1;
        if (it->type != V_INT && len < 0) return bad(r, j, "bufs[%u] must be bytes or a size (integer)", i + 1);
        if (len < 0 || len > (int64_t)SC_MAX_BUF_BYTES)
            return bad(r, j, "bufs[%u] is %lld bytes: a buffer holds 0..16 MiB", i + 1, (long long)len);
        total += (size_t)len;
        if (total > SC_MAX_TOTAL_BYTES) return bad(r, j, "the buffers of one call hold at most 64 MiB together (over it at bufs[%u])", i + 1);
        if (sysbuf_alloc(&j->bufs[i], (size_t)len, it->type == V_INT ? NULL : it->u.bytes) < 0) {
            reply_errno(r, errno, NULL, NULL);
            sc_job_free(j);
            return -1;
        }
        j->nbufs = i + 1;
    }
    return 0;
}

static int parse_ptrs(const req_t *r, sc_job_t *j, const value_t *ptrs) {
    if ((int)ptrs->n > j->nbufs) return bad(r, j, "%u ptrs for %d bufs: each ptrs[i] places bufs[i]", ptrs->n, j->nbufs);
    int used[6] = {0};
    for (uint32_t i = 0; i < ptrs->n; i++) {
        const value_t *it = &ptrs->u.items[i];
        if (it->type != V_INT || it->u.i < 0 || it->u.i > 5)
            return bad(r, j, "ptrs[%u] must be an argument slot 0..5 (0 is the first argument), got %lld", i + 1, it->type == V_INT ? (long long)it->u.i : -1LL);
        if (used[it->u.i]++) return bad(r, j, "ptrs[%u]: slot %lld already receives another buffer", i + 1, (long long)it->u.i);
        j->a[it->u.i] = (int64_t)(uintptr_t)j->bufs[i].p;
    }
    return 0;
}

static int nested_field(const value_t *e, const char *key, int64_t *out) {
    const value_t *v = map_get(e, key);
    if (!v || v->type != V_INT) return -1;
    *out = v->u.i;
    return 0;
}

/* nested: {parent, child, offset}: the address of bufs[child] goes into bufs[parent] at byte offset. */
static int parse_nested(const req_t *r, sc_job_t *j, const value_t *nested) {
    if (nested->n > SC_MAX_NESTED) return bad(r, j, "at most %d nested pointers per call, got %u", SC_MAX_NESTED, nested->n);
    for (uint32_t i = 0; i < nested->n; i++) {
        const value_t *e = &nested->u.items[i];
        int64_t parent, child, offset;
        if (e->type != V_MAP || nested_field(e, "parent", &parent) || nested_field(e, "child", &child) || nested_field(e, "offset", &offset))
            return bad(r, j, "nested[%u] must be {parent=, child=, offset=} with integers", i + 1);
        if (parent < 1 || parent > j->nbufs) return bad(r, j, "nested[%u].parent = %lld: no such buffer (bufs are numbered from 1)", i + 1, (long long)parent);
        if (child < 1 || child > j->nbufs) return bad(r, j, "nested[%u].child = %lld: no such buffer (bufs are numbered from 1)", i + 1, (long long)child);
        sysbuf_t *p = &j->bufs[parent - 1];
        if (offset < 0 || (uint64_t)offset + 8 > p->len)
            return bad(r, j, "nested[%u].offset = %lld: the 8-byte pointer must fit inside its parent buffer", i + 1, (long long)offset);
        uint64_t addr = (uintptr_t)j->bufs[child - 1].p;
        memcpy(p->p + offset, &addr, 8);
    }
    return 0;
}

int sc_job_parse(const req_t *r, sc_job_t *j) {
    memset(j, 0, sizeof *j);
    j->req_id = r->id;
    const uint8_t *args = NULL;
    size_t nargs = 0;
    int64_t timeout = -1;
    j->call_id = -1;
    if (arg_int(r, "call", 0, &j->call_id) || arg_int(r, "nr", 1, &j->nr) || arg_bytes(r, "args", 0, &args, &nargs) || arg_int(r, "timeout_ms", 0, &timeout)) return -1;
    if (nargs % 8 || nargs > 48) return bad(r, j, "'args' must be up to 6 little-endian 64-bit integers (a multiple of 8 bytes up to 48), got %zu bytes", nargs);
    memcpy(j->a, args ? args : (const uint8_t *)"", nargs);
    int async = 0;
    if (arg_bool(r, "async", &async)) return -1;
    if (timeout == -1) j->timeout_ms = async ? 0 : SC_DEFAULT_TIMEOUT_MS;
    else if (timeout < (async ? 0 : 1) || timeout > SC_MAX_SYNC_TIMEOUT_MS * (async ? 1000 : 1))
        return bad(r, j, "timeout_ms = %lld: a call's timeout is %d..%lld ms", (long long)timeout, async ? 0 : 1, async ? SC_MAX_SYNC_TIMEOUT_MS * 1000LL : (long long)SC_MAX_SYNC_TIMEOUT_MS);
    else j->timeout_ms = timeout;
    int fail = 0;
    const value_t *bufs = array_arg(r, "bufs", &fail), *ptrs = array_arg(r, "ptrs", &fail), *nested = array_arg(r, "nested", &fail);
    if (fail) return -1;
    if (bufs && parse_bufs(r, j, bufs)) return -1;
    if (ptrs && parse_ptrs(r, j, ptrs)) return -1;
    if (nested && parse_nested(r, j, nested)) return -1;
    return 0;
}

/* ---------------------------------------------------------------- running */

int sc_job_check(int64_t req_id, const sc_job_t *j) {
    char why[400];
    /* a memory call is checked under the lock; when an async call holds it, the call's own thread checks it again */
    int mem = sysmem_is_memory_call(j->nr) && regions_trylock();
    const char *refusal = sc_refusal(j->nr, j->a, why, sizeof why, mem);
    if (mem) regions_unlock();
    if (!refusal) return 0;
    reply_error(req_id, "EPERM", EPERM, "syscall %lld: %s", (long long)j->nr, refusal);
    return -1;
}

void sc_job_run(sc_job_t *j, timer_t timer) {
    fdset_t before;
    fds_before(&before);
    int mem = sysmem_is_memory_call(j->nr);
    char why[400];
    if (mem) regions_lock();
    /* checked again under the lock: another thread's call may have unmapped the range meanwhile */
    if (mem && regions_refusal(j->nr, j->a, why, sizeof why)) {
        regions_unlock();
        j->ret = -1;
        j->err = EPERM;
        return;
    }
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sc_interrupt_signal());
    if (j->timeout_ms) sc_arm(timer, j->timeout_ms);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    errno = 0;
    long ret = syscall(j->nr, j->a[0], j->a[1], j->a[2], j->a[3], j->a[4], j->a[5]);
    int err = ret == -1 ? errno : 0;
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    if (j->timeout_ms) sc_arm(timer, 0);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&s, NULL, &zero) > 0) {} /* a signal that came after the call returned */
    if (mem) {
        if (err == 0) regions_note(j->nr, j->a, ret);
        regions_unlock();
    }
    fds_after(&before);
    j->ret = ret;
    j->err = err;
}

void sc_enc_out_bufs(coll_t *m, const sc_job_t *j, int from) {
    enc_key(m, "out_bufs");
    coll_t a = enc_array_open(m->b);
    for (int i = from; i < j->nbufs; i++) {
        enc_array_item(&a);
        enc_bytes(m->b, j->bufs[i].p, j->bufs[i].len);
    }
    enc_close(&a);
}

void sc_job_reply(const sc_job_t *j) {
    coll_t m = resp_ok(j->req_id);
    enc_key(&m, "ret");
    enc_bytes(m.b, &j->ret, 8); /* raw 64 bits, little-endian: the host's numbers are doubles */
    enc_key(&m, "errno");
    enc_int(m.b, j->err);
    sc_enc_out_bufs(&m, j, 0);
    proto_send(&m);
}

void sc_job_free(sc_job_t *j) {
    for (int i = 0; i < SC_MAX_BUFS; i++) sysbuf_free(&j->bufs[i]);
    j->nbufs = 0;
}
