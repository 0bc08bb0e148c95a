#include "syscall.h"

#include "handles.h"
#include "sysasync.h"
#include "sysjob.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

/* The main thread's deadline timer, made at its first call. */
static timer_t main_timer;
static int main_timer_made;

static int main_thread_timer(const req_t *r) {
    if (!main_timer_made && sc_thread_timer(&main_timer) < 0) {
        reply_errno(r, errno, NULL, NULL);
        return -1;
    }
    main_timer_made = 1;
    return 0;
}

void op_syscall(const req_t *r) {
    int async = 0;
    if (arg_bool(r, "async", &async)) return;
    sc_job_t *j = malloc(sizeof *j);
    if (!j) {
        reply_errno(r, ENOMEM, NULL, NULL);
        return;
    }
    if (sc_job_parse(r, j) || sc_job_check(r->id, j) || (!async && main_thread_timer(r))) {
        sc_job_free(j);
        free(j);
        return;
    }
    if (async) {
        sc_interrupt_signal(); /* set up on this (the main) thread, before threads inherit its mask */
        sysasync_start(j); /* answers when the call returns */
        return;
    }
    sc_job_run(j, main_timer);
    sc_job_reply(j);
    sc_job_free(j);
    free(j);
}

void op_syscall_cancel(const req_t *r) {
    int64_t call;
    if (arg_int(r, "call", 1, &call)) return;
    coll_t m = resp_ok(r->id);
    enc_key(&m, "cancelled");
    enc_bool(m.b, sysasync_cancel(call));
    proto_send(&m);
}

/* ioctl(fd of an open file handle, cmd, data): data and the auxiliary buffers
 * are guarded buffers, as a syscall's; ptr_offsets[i] is where in data the
 * address of bufs[i] goes. A negative return is an error answer. */
void op_ioctl(const req_t *r) {
    int64_t handle, cmd;
    const uint8_t *data = NULL;
    size_t len = 0;
    if (arg_int(r, "handle", 1, &handle) || arg_int(r, "cmd", 1, &cmd) || arg_bytes(r, "data", 0, &data, &len)) return;
    const char *path;
    int fd = files_fd(handle, &path);
    if (fd < 0) {
        reply_error(r->id, "EBADF", EBADF, "ioctl: no open file handle %lld (file:fd() of an open File)", (long long)handle);
        return;
    }
    if (len > SC_MAX_BUF_BYTES) {
        reply_error(r->id, "EINVAL", EINVAL, "ioctl: data is %zu bytes: at most 16 MiB", len);
        return;
    }
    sc_job_t *j = malloc(sizeof *j);
    if (!j) {
        reply_errno(r, ENOMEM, NULL, NULL);
        return;
    }
    memset(j, 0, sizeof *j);
    j->req_id = r->id;
    const value_t *bufs = map_get(r->msg, "bufs"), *offsets = map_get(r->msg, "ptr_offsets");
    int nbufs = bufs && bufs->type == V_ARRAY ? (int)bufs->n : 0, noff = offsets && offsets->type == V_ARRAY ? (int)offsets->n : 0;
    if (nbufs >= SC_MAX_BUFS) {
        reply_error(r->id, "EINVAL", EINVAL, "ioctl: at most %d auxiliary buffers, got %d", SC_MAX_BUFS - 1, nbufs);
        free(j);
        return;
    }
    if (noff > nbufs) {
        reply_error(r->id, "EINVAL", EINVAL, "ioctl: %d ptr_offsets for %d bufs: ptr_offsets[i] places bufs[i]", noff, nbufs);
        free(j);
        return;
    }
    int err = sysbuf_alloc(&j->bufs[0], len, data) < 0 ? errno : 0;
    j->nbufs = 1;
    size_t total = len;
    for (int i = 0; !err && i < nbufs; i++) {
        const value_t *it = &bufs->u.items[i];
        int64_t n = it->type == V_INT ? it->u.i : (it->type == V_BYTES || it->type == V_STR) ? (int64_t)it->n : -1;
        total += n > 0 ? (size_t)n : 0;
        if (n < 0 || n > (int64_t)SC_MAX_BUF_BYTES || total > SC_MAX_TOTAL_BYTES) {
            reply_error(r->id, "EINVAL", EINVAL, "ioctl: bufs[%d] must be bytes or a size, 0..16 MiB each and 64 MiB together", i + 1);
            goto out;
        }
        if (sysbuf_alloc(&j->bufs[i + 1], (size_t)n, it->type == V_INT ? NULL : it->u.bytes) < 0) err = errno;
        j->nbufs = i + 2;
    }
    for (int i = 0; !err && i < noff; i++) {
        const value_t *it = &offsets->u.items[i];
        if (it->type != V_INT || it->u.i < 0 || (uint64_t)it->u.i + 8 > len) {
            reply_error(r->id, "EINVAL", EINVAL, "ioctl: ptr_offsets[%d] must be an offset where 8 bytes fit in data (%zu bytes)", i + 1, len);
            goto out;
        }
        uint64_t addr = (uintptr_t)j->bufs[i + 1].p;
        memcpy(j->bufs[0].p + it->u.i, &addr, 8);
    }
    if (err || main_thread_timer(r)) {
        if (err) reply_errno(r, err, NULL, NULL);
        goto out;
    }
    j->nr = SYS_ioctl;
    j->a[0] = fd;
    j->a[1] = cmd;
    j->a[2] = (int64_t)(uintptr_t)j->bufs[0].p;
    j->timeout_ms = SC_DEFAULT_TIMEOUT_MS;
    sc_job_run(j, main_timer);
    if (j->ret < 0) {
        reply_errno(r, j->err ? j->err : EIO, NULL, NULL);
        goto out;
    }
    coll_t m = resp_ok(r->id);
    enc_key(&m, "ret");
    enc_int(m.b, j->ret);
    enc_key(&m, "out_data");
    enc_bytes(m.b, j->bufs[0].p, j->bufs[0].len);
    sc_enc_out_bufs(&m, j, 1);
    proto_send(&m);
out:
    sc_job_free(j);
    free(j);
}
