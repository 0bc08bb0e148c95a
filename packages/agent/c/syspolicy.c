#include "syspolicy.h"

#include "sysmem.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef ARCH_SET_GS
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#endif
#define ARCH_MAP_VDSO_FIRST 0x2001
#define ARCH_MAP_VDSO_LAST 0x2003
#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#endif

/* ---------------------------------------------------------------- by number */

/* Calls refused whatever their arguments, and why. */
static const struct {
    int64_t nr;
    const char *name, *why;
} always[] = {
    {SYS_exit, "exit", "it would end the agent (or one of its threads, which then never answers)"},
    {SYS_exit_group, "exit_group", "it would end the agent"},
    {SYS_rt_sigreturn, "rt_sigreturn", "it would jump to whatever its stack holds"},
    {SYS_fork, "fork", "the child would be a second agent on the same connection; use vm:run or vm:run_async"},
    {SYS_vfork, "vfork", "the child would run the agent's code on the agent's stack; use vm:run or vm:run_async"},
    {SYS_clone, "clone", "the child would be a second agent on the same connection; use vm:run or vm:run_async"},
    {SYS_clone3, "clone3", "the child would be a second agent on the same connection; use vm:run or vm:run_async"},
    {SYS_execve, "execve", "it would replace the agent; use vm:run"},
    {SYS_execveat, "execveat", "it would replace the agent; use vm:run"},
    {SYS_wait4, "wait4", "it would take exit statuses the agent waits for; use process:wait"},
    {SYS_waitid, "waitid", "it would take exit statuses the agent waits for; use process:wait"},
    {SYS_rt_sigsuspend, "rt_sigsuspend", "it would replace the agent's signal mask while it waits"},
    {SYS_rt_sigtimedwait, "rt_sigtimedwait", "it could take the signals the agent waits for (SIGCHLD, SIGIO)"},
    {SYS_signalfd, "signalfd", "a signalfd could take the signals the agent waits for (SIGCHLD, SIGIO)"},
    {SYS_signalfd4, "signalfd4", "a signalfd could take the signals the agent waits for (SIGCHLD, SIGIO)"},
    {SYS_setrlimit, "setrlimit", "a limit on the agent could kill it (SIGXCPU, SIGXFSZ) or starve it of descriptors; set limits of commands with `ulimit` in vm:run"},
    {SYS_alarm, "alarm", "SIGALRM would kill the agent"},
    {SYS_timer_create, "timer_create", "the timer's signal would kill the agent; use timerfd_create"},
    {SYS_seccomp, "seccomp", "a filter on the agent could kill it at its next call"},
    {SYS_set_tid_address, "set_tid_address", "the C library's thread bookkeeping depends on it"},
    {SYS_set_robust_list, "set_robust_list", "the C library's thread bookkeeping depends on it"},
    {SYS_rseq, "rseq", "the C library registered the agent's rseq area"},
    {SYS_userfaultfd, "userfaultfd", "a registered range of the agent's memory would stall it"},
    {SYS_mlockall, "mlockall", "it would make all of the agent's memory, and every later mapping, resident"},
};

static const char *refuse(char *why, size_t n, const char *fmt, const char *name, const char *reason) {
    snprintf(why, n, fmt, name, reason);
    return why;
}

/* Whether `tid` is one of the agent's threads. */
static int own_thread(int64_t arg) {
    int64_t tid = (int32_t)arg; /* the kernel reads a pid_t */
    if (tid <= 0) return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%lld", (long long)tid);
    return access(path, F_OK) == 0;
}

/* Whether a kill-style `pid` reaches the agent (its pid or a thread's, which
 * names the whole process; 0: its group; -1: every process; its group) or
 * init (a signal may make init halt or reboot the VM). */
static int reaches_agent(int64_t arg) {
    int64_t pid = (int32_t)arg; /* the kernel reads a pid_t */
    return pid == getpid() || own_thread(pid) || pid == 0 || pid == -1 || pid == -(int64_t)getpgrp() || pid == 1;
}

/* Rules that look at the arguments, beside the descriptor and memory rules. */
static const char *by_arguments(int64_t nr, const int64_t a[6], char *why, size_t n) {
    const char *sig = "%s is refused: %s";
    switch (nr) {
    case SYS_kill:
    case SYS_rt_sigqueueinfo:
        if (a[1] != 0 && reaches_agent(a[0])) return refuse(why, n, sig, nr == SYS_kill ? "kill" : "rt_sigqueueinfo", "the signal would reach the agent (pid 0, -1, its own pid or process group) or init (pid 1; use vm:shutdown or vm:power_button)");
        return NULL;
    case SYS_tgkill:
    case SYS_rt_tgsigqueueinfo:
        if (a[2] != 0 && ((int32_t)a[0] == getpid() || (int32_t)a[0] == 1)) return refuse(why, n, sig, nr == SYS_tgkill ? "tgkill" : "rt_tgsigqueueinfo", "the signal would reach one of the agent's threads, or init");
        return NULL;
    case SYS_tkill:
        if (a[1] != 0 && (own_thread(a[0]) || (int32_t)a[0] == 1)) return refuse(why, n, sig, "tkill", "the signal would reach one of the agent's threads, or init");
        return NULL;
    case SYS_pidfd_open:
        if (own_thread(a[0])) return refuse(why, n, sig, "pidfd_open", "a pidfd of the agent could signal it");
        return NULL;
    case SYS_rt_sigaction:
        if (a[1] != 0) return refuse(why, n, sig, "rt_sigaction with a new action", "the agent's signal handling would change (reading the action, with act = 0, is allowed)");
        return NULL;
    case SYS_rt_sigprocmask:
        if (a[1] != 0) return refuse(why, n, sig, "rt_sigprocmask with a new set", "the agent's signal mask would change (reading it, with set = 0, is allowed)");
        return NULL;
    case SYS_ppoll:
        if (a[3] != 0) return refuse(why, n, sig, "ppoll with a signal mask", "the mask could block the signal that ends a call at its timeout; pass 0");
        return NULL;
    case SYS_pselect6:
        if (a[5] != 0) return refuse(why, n, sig, "pselect6 with a signal mask", "the mask could block the signal that ends a call at its timeout; pass 0");
        return NULL;
    case SYS_epoll_pwait:
    case SYS_epoll_pwait2:
        if (a[4] != 0) return refuse(why, n, sig, "epoll_pwait with a signal mask", "the mask could block the signal that ends a call at its timeout; pass 0");
        return NULL;
    case SYS_io_pgetevents:
        if (a[5] != 0) return refuse(why, n, sig, "io_pgetevents with a signal mask", "the mask could block the signal that ends a call at its timeout; pass 0");
        return NULL;
    case SYS_setitimer:
        if (a[1] != 0) return refuse(why, n, sig, "setitimer with a new value", "the timer's signal would kill the agent; use timerfd_create");
        return NULL;
    case SYS_mq_notify:
        if (a[1] != 0) return refuse(why, n, sig, "mq_notify with a notification", "its signal could kill the agent");
        return NULL;
    case SYS_prlimit64:
        if (a[2] != 0 && ((int32_t)a[0] == 0 || own_thread(a[0])))
            return refuse(why, n, sig, "prlimit64 on the agent", "a limit on the agent could kill it or starve it of descriptors");
        return NULL;
    case SYS_ptrace:
        if (a[0] == 0) return refuse(why, n, sig, "ptrace(PTRACE_TRACEME)", "every signal would stop the agent until its parent looked");
        return NULL;
    case SYS_process_vm_writev:
        if (own_thread(a[0])) return refuse(why, n, sig, "process_vm_writev into the agent", "it would write into the agent's memory");
        return NULL;
    case SYS_arch_prctl:
        if (a[0] == ARCH_SET_FS || a[0] == ARCH_SET_GS || (a[0] >= ARCH_MAP_VDSO_FIRST && a[0] <= ARCH_MAP_VDSO_LAST))
            return refuse(why, n, sig, "arch_prctl(ARCH_SET_FS/GS, ARCH_MAP_VDSO_*)", "the agent's thread pointer and vDSO must stay (ARCH_GET_* are allowed)");
        return NULL;
    case SYS_prctl:
        if (a[0] == PR_SET_SECCOMP || a[0] == PR_SET_MM || a[0] == PR_SET_TSC || a[0] == PR_SET_SYSCALL_USER_DISPATCH)
            return refuse(why, n, sig, "prctl(PR_SET_SECCOMP, PR_SET_MM, PR_SET_TSC, PR_SET_SYSCALL_USER_DISPATCH)", "it could kill the agent at its next call or clock read");
        return NULL;
    case SYS_futex: {
        int64_t cmd = a[1] & 0x7f; /* without FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME */
        if ((cmd == 6 || cmd == 11 || cmd == 13) && a[3] == 0)
            return refuse(why, n, sig, "futex LOCK_PI, LOCK_PI2 or WAIT_REQUEUE_PI without a timeout", "a signal does not interrupt it, so its thread could wait forever; give a timeout");
        return NULL;
    }
    case SYS_fallocate:
        if ((uint64_t)a[3] > SC_MAX_MAP_BYTES) return refuse(why, n, sig, "fallocate of more than 64 MiB", "on the guest's memory-backed file systems it could use up the guest's memory");
        return NULL;
    case SYS_fcntl:
        if (a[1] == F_SETSIG || a[1] == F_SETOWN || a[1] == F_SETOWN_EX)
            return refuse(why, n, sig, "fcntl(F_SETSIG, F_SETOWN, F_SETOWN_EX)", "I/O signals could kill the agent");
        return NULL;
    default:
        return NULL;
    }
}

/* ---------------------------------------------------------------- descriptors */

static uint64_t host_fds[SC_MAX_TRACKED_FD / 64]; /* made by host syscalls */
static pthread_mutex_t fds_mutex = PTHREAD_MUTEX_INITIALIZER;

static int bit(const uint64_t *bits, int fd) { return fd >= 0 && fd < SC_MAX_TRACKED_FD && (bits[fd / 64] >> (fd % 64)) & 1; }

/* The agent's own: 0-2 and every close-on-exec descriptor no host syscall made
 * (the agent opens all of its descriptors close-on-exec). */
static int agent_fd(int64_t v) {
    int fd = (int)(uint32_t)v; /* the kernel reads descriptors as 32-bit */
    if (fd < 0) return 0;
    if (fd <= 2) return 1;
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || !(flags & FD_CLOEXEC)) return 0;
    pthread_mutex_lock(&fds_mutex);
    int host = bit(host_fds, fd);
    pthread_mutex_unlock(&fds_mutex);
    return !host;
}

/* The argument slots that name a descriptor the call reads, writes, closes or reconfigures. */
static int fd_slots(int64_t nr, int slots[2]) {
    switch (nr) {
    case SYS_dup2: case SYS_dup3: slots[0] = 1; return 1;
    case SYS_sendfile: case SYS_tee: case SYS_kexec_file_load: slots[0] = 0; slots[1] = 1; return 2;
    case SYS_splice: case SYS_copy_file_range: slots[0] = 0; slots[1] = 2; return 2;
    case SYS_read: case SYS_write: case SYS_close: case SYS_ioctl: case SYS_pread64: case SYS_pwrite64:
    case SYS_readv: case SYS_writev: case SYS_preadv: case SYS_pwritev: case SYS_preadv2: case SYS_pwritev2:
    case SYS_connect: case SYS_accept: case SYS_accept4: case SYS_sendto: case SYS_recvfrom: case SYS_sendmsg:
    case SYS_recvmsg: case SYS_sendmmsg: case SYS_recvmmsg: case SYS_shutdown: case SYS_bind: case SYS_listen:
    case SYS_setsockopt: case SYS_fcntl: case SYS_flock: case SYS_ftruncate: case SYS_fallocate: case SYS_getdents:
    case SYS_getdents64: case SYS_fchmod: case SYS_fchown: case SYS_fsetxattr: case SYS_fremovexattr:
    case SYS_inotify_add_watch: case SYS_inotify_rm_watch: case SYS_fanotify_mark: case SYS_vmsplice:
    case SYS_timerfd_settime: case SYS_setns: case SYS_io_uring_enter: case SYS_io_uring_register: case SYS_lseek:
    case SYS_finit_module:
        slots[0] = 0;
        return 1;
    default:
        return 0;
    }
}

static const char *fd_refusal(int64_t nr, const int64_t a[6], char *why, size_t n) {
    int slots[2], k = fd_slots(nr, slots);
    for (int i = 0; i < k; i++)
        if (agent_fd(a[slots[i]])) {
            snprintf(why, n,
                     "syscall %lld is refused: argument %d is descriptor %d, one of the agent's own (0-2, its connection, "
                     "log and pipes); a host syscall may use the descriptors it made itself",
                     (long long)nr, slots[i] + 1, (int)(uint32_t)a[slots[i]]);
            return why;
        }
    if (nr == SYS_close_range) {
        uint32_t first = (uint32_t)a[0], last = (uint32_t)a[1];
        for (uint64_t fd = first; fd <= last && fd < SC_MAX_TRACKED_FD; fd++)
            if (agent_fd((int64_t)fd)) {
                snprintf(why, n, "close_range(%u, %u) is refused: it covers descriptor %d, one of the agent's own", first, last, (int)fd);
                return why;
            }
    }
    return NULL;
}

const char *sc_refusal(int64_t nr, const int64_t a[6], char *why, size_t n, int memory) {
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
        if (always[i].nr == nr) return refuse(why, n, "%s is refused: %s", always[i].name, always[i].why);
    const char *r = by_arguments(nr, a, why, n);
    if (!r) r = fd_refusal(nr, a, why, n);
    if (!r && memory) r = regions_refusal(nr, a, why, n);
    return r;
}

/* ---------------------------------------------------------------- tracking */

static void snapshot(fdset_t *s) {
    memset(s, 0, sizeof *s);
    DIR *d = opendir("/proc/self/fd");
    if (!d) return;
    int own = dirfd(d);
    for (struct dirent *e; (e = readdir(d));) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end || end == e->d_name || fd == own || fd < 0 || fd >= SC_MAX_TRACKED_FD) continue;
        s->bits[fd / 64] |= 1ull << (fd % 64);
    }
    closedir(d);
}

void fds_before(fdset_t *s) { snapshot(s); }

void fds_after(const fdset_t *before) {
    fdset_t after;
    snapshot(&after);
    pthread_mutex_lock(&fds_mutex);
    for (size_t i = 0; i < SC_MAX_TRACKED_FD / 64; i++) {
        host_fds[i] |= after.bits[i] & ~before->bits[i];  /* opened by the call */
        host_fds[i] &= ~(before->bits[i] & ~after.bits[i]); /* closed by it */
    }
    pthread_mutex_unlock(&fds_mutex);
}
