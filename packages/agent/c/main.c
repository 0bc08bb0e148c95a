/* provium-agent: serves the host's requests inside the guest.
 *   provium-agent [--port NAME]        virtio-serial port by name (default org.provium.agent)
 *   provium-agent --connect-unix PATH  connect to a unix socket (host tests), reconnecting
 *   provium-agent --stdio              serve on stdin/stdout; exit at EOF
 *   provium-agent --worker             as --stdio, for a worker (worker.h): serves what is relayed to it
 *   --log PATH                         log file (default /tmp/provium-agent.log) */
#include "batch.h"
#include "conn.h"
#include "launch.h"
#include "pipes.h"
#include "log.h"
#include "proc.h"
#include "proto.h"
#include "session.h"
#include "tail.h"
#include "worker.h"
#include "sysasync.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define STREAM_HIGH_WATER (8u * 1024 * 1024)

static conn_t conn;

static void usage(const char *why) {
    fprintf(stderr,
            "provium-agent: %s\n"
            "usage: provium-agent [--port NAME | --connect-unix PATH | --stdio | --worker] [--log PATH]\n",
            why);
    exit(2);
}

/* Children get fds 0-2 by dup2: they must not be free slots pipes could take. */
static void ensure_std_fds(void) {
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0) exit(1);
}

int main(int argc, char **argv) {
    conn_mode_t mode = MODE_PORT;
    const char *target = "org.provium.agent", *logfile = "/tmp/provium-agent.log";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--stdio") || !strcmp(a, "--worker")) {
            mode = MODE_STDIO;
            if (a[2] == 'w') workers_relay_off();
        } else if (!strcmp(a, "--port") || !strcmp(a, "--connect-unix") || !strcmp(a, "--log")) {
            if (i + 1 >= argc) usage("missing value after an option");
            if (!strcmp(a, "--log")) logfile = argv[++i];
            else {
                mode = a[2] == 'p' ? MODE_PORT : MODE_UNIX;
                target = argv[++i];
            }
        } else if (!strcmp(a, "--version")) {
            printf("provium-agent protocol %d\n", AGENT_PROTOCOL_VERSION);
            return 0;
        } else {
            char why[300];
            snprintf(why, sizeof why, "unknown argument '%s'", a);
            usage(why);
        }
    }
    ensure_std_fds();
    /* Every request and command allocates and frees tens of KiB: keep freed
     * memory instead of giving it back and faulting it in again each time. */
    mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
    if (!getenv("PATH")) setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
    log_open(logfile);
    logmsg("provium-agent starting: pid %d, protocol %d, %s %s", (int)getpid(), AGENT_PROTOCOL_VERSION,
           mode == MODE_PORT ? "port" : mode == MODE_UNIX ? "unix socket" : "stdio",
           mode == MODE_STDIO ? "" : target);

    /* SIGCHLD: a child exited; SIGIO: the host connected to the port (conn.c).
     * SIGPIPE is blocked, not ignored: a write to a closed pipe fails with EPIPE
     * as well, and a command gets the default disposition back with the signal
     * mask it sets anyway (an ignored signal stays ignored across exec). */
    sigset_t sigs, blocked;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGCHLD);
    sigaddset(&sigs, SIGIO);
    blocked = sigs;
    sigaddset(&blocked, SIGPIPE);
    sigprocmask(SIG_BLOCK, &blocked, NULL);
    int sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sigfd < 0) {
        perror("provium-agent: signalfd");
        return 1;
    }

    conn_init(&conn, mode, target, session_on_frame, session_end);
    proto_conn = &conn;
    pollset_t ps = {0};
    for (;;) {
        int64_t now = now_ms();
        pollset_reset(&ps);
        conn_prepare(&conn, &ps, now);
        pollset_add(&ps, sigfd, POLLIN, SLOT_SIGNAL, 0);
        int paused = conn_pending(&conn) > STREAM_HIGH_WATER;
        procs_prepare(&ps, now, paused);
        tails_prepare(&ps, now, paused);
        workers_prepare(&ps);
        sysasync_prepare(&ps, now);
        /* What no answer waits for is done while no exec runs: then the host
         * has its answers and the guest would idle until the next request. */
        if (!launch_execs_running()) {
            log_flush();
            pipes_tidy();
        }
        if (poll(ps.fds, ps.n, ps.timeout_ms) < 0) continue; /* EINTR */
        int signalled = 0;
        for (size_t i = 0; i < ps.n; i++) {
            short rev = ps.fds[i].revents;
            if (!rev) continue;
            switch (ps.slots[i].kind) {
            case SLOT_CONN: conn_handle(&conn, rev); break;
            case SLOT_SIGNAL: signalled = 1; break;
            case SLOT_TAIL: tails_handle(ps.slots[i].id, rev); break;
            case SLOT_WORKER: workers_handle(ps.slots[i].id, rev); break;
            case SLOT_SYSCALL: sysasync_handle(); break;
            default: procs_handle(ps.slots[i].kind, ps.slots[i].id, rev);
            }
        }
        /* after the pipes: an exit is reported once its output was read */
        if (signalled) {
            struct signalfd_siginfo si[8];
            int child_exited = 0;
            ssize_t got;
            do {
                got = read(sigfd, si, sizeof si);
                for (ssize_t i = 0; i < got / (ssize_t)sizeof si[0]; i++) {
                    if (si[i].ssi_signo == SIGIO) conn_host_event(&conn);
                    else child_exited = 1;
                }
            } while (got == (ssize_t)sizeof si); /* a full read may have left more */
            if (child_exited) procs_reap();
        }
        procs_check_deadlines(now_ms());
        batches_resume(); /* after procs_reap: an exec of a batch answered */
        tails_tick(now_ms(), paused);
    }
}
