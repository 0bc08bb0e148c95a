#include "sysasync.h"

#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static pthread_mutex_t jobs_mutex = PTHREAD_MUTEX_INITIALIZER;
static sc_job_t *in_flight;
static int n_in_flight;
static int wake_fd = -1; /* eventfd: a thread finished */

static void *run_thread(void *arg) {
    sc_job_t *j = arg;
    timer_t timer;
    int has_timer = sc_thread_timer(&timer) == 0;
    pthread_mutex_lock(&jobs_mutex);
    j->timer = timer;
    j->has_timer = has_timer;
    if (has_timer && j->cancelled) sc_arm(timer, 1);
    pthread_mutex_unlock(&jobs_mutex);
    if (has_timer || !j->timeout_ms) sc_job_run(j, timer);
    else {
        j->ret = -1;
        j->err = errno; /* no timer, so no deadline could be kept: not made */
    }
    pthread_mutex_lock(&jobs_mutex);
    if (has_timer) timer_delete(timer);
    j->has_timer = 0;
    j->running = 0;
    if (j->abandoned) { /* answered and forgotten by the main loop: this thread cleans up */
        pthread_mutex_unlock(&jobs_mutex);
        sc_job_free(j);
        free(j);
        return NULL;
    }
    pthread_mutex_unlock(&jobs_mutex);
    uint64_t one = 1;
    ssize_t w = write(wake_fd, &one, sizeof one);
    (void)w; /* an eventfd write only fails at a counter near 2^64 */
    return NULL;
}

static int refuse(sc_job_t *j, int err) {
    const char *code = strerrorname_np(err);
    reply_error(j->req_id, code ? code : "EUNKNOWN", err, "syscall: cannot start a thread for syscall_async: %s", strerror(err));
    sc_job_free(j);
    free(j);
    return -1;
}

int sysasync_start(sc_job_t *j) {
    if (wake_fd < 0) wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd < 0) return refuse(j, errno);
    if (n_in_flight >= SC_MAX_ASYNC) {
        reply_error(j->req_id, "EAGAIN", EAGAIN, "syscall: %d syscall_async calls are in flight, the most at once: await some first", SC_MAX_ASYNC);
        sc_job_free(j);
        free(j);
        return -1;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_mutex_lock(&jobs_mutex);
    j->running = 1;
    j->due_ms = j->timeout_ms ? now_ms() + j->timeout_ms + SC_ABANDON_GRACE_MS : 0;
    int rc = pthread_create(&j->thread, &attr, run_thread, j);
    if (rc == 0) {
        j->next = in_flight;
        in_flight = j;
        n_in_flight++;
    }
    pthread_mutex_unlock(&jobs_mutex);
    pthread_attr_destroy(&attr);
    return rc ? refuse(j, rc) : 0;
}

/* With jobs_mutex held. */
static void interrupt(sc_job_t *j) {
    j->cancelled = 1;
    int64_t due = now_ms() + SC_ABANDON_GRACE_MS;
    if (!j->due_ms || due < j->due_ms) j->due_ms = due;
    if (j->running && j->has_timer) sc_arm(j->timer, 1);
}

int sysasync_cancel(int64_t call_id) {
    int found = 0;
    pthread_mutex_lock(&jobs_mutex);
    for (sc_job_t *j = in_flight; j; j = j->next)
        if (j->call_id == call_id && j->running && !j->orphan) {
            interrupt(j);
            found = 1;
        }
    pthread_mutex_unlock(&jobs_mutex);
    return found;
}

void sysasync_orphan_all(void) {
    pthread_mutex_lock(&jobs_mutex);
    for (sc_job_t *j = in_flight; j; j = j->next) {
        j->orphan = 1;
        interrupt(j);
    }
    pthread_mutex_unlock(&jobs_mutex);
}

/* Answers (ETIMEDOUT) and forgets the calls past their grace. */
static void abandon_overdue(pollset_t *ps, int64_t now) {
    pthread_mutex_lock(&jobs_mutex);
    for (sc_job_t **pp = &in_flight; *pp;) {
        sc_job_t *j = *pp;
        if (!j->running || !j->due_ms || now < j->due_ms) {
            if (j->running && j->due_ms) pollset_wake_at(ps, j->due_ms, now);
            pp = &j->next;
            continue;
        }
        *pp = j->next;
        n_in_flight--;
        j->abandoned = 1;
        pthread_detach(j->thread);
        logmsg("syscall %lld did not return %d ms after its timeout or cancel: answered ETIMEDOUT, its thread left running",
               (long long)j->nr, SC_ABANDON_GRACE_MS);
        if (!j->orphan) {
            sc_job_t answer = {.req_id = j->req_id, .ret = -1, .err = ETIMEDOUT};
            sc_job_reply(&answer);
        }
    }
    pthread_mutex_unlock(&jobs_mutex);
}

void sysasync_prepare(pollset_t *ps, int64_t now) {
    if (wake_fd < 0 || n_in_flight == 0) return;
    abandon_overdue(ps, now);
    if (n_in_flight > 0) pollset_add(ps, wake_fd, POLLIN, SLOT_SYSCALL, 0);
}

void sysasync_handle(void) {
    uint64_t n;
    if (read(wake_fd, &n, sizeof n) < 0) return;
    sc_job_t *done = NULL;
    pthread_mutex_lock(&jobs_mutex);
    for (sc_job_t **pp = &in_flight; *pp;) {
        sc_job_t *j = *pp;
        if (j->running) {
            pp = &j->next;
            continue;
        }
        *pp = j->next;
        j->next = done;
        done = j;
        n_in_flight--;
    }
    pthread_mutex_unlock(&jobs_mutex);
    while (done) {
        sc_job_t *j = done;
        done = j->next;
        pthread_join(j->thread, NULL);
        if (!j->orphan) sc_job_reply(j);
        sc_job_free(j);
        free(j);
    }
}
