#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int log_fd = -1;
static const char *log_file;
static off_t log_size = -1; /* bytes in the log file as far as the agent knows; -1: not known */

void log_open(const char *path) {
    log_file = path;
    log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    /* Without a writable log the agent still serves; the `log` op reports the open error. */
    atexit(log_flush);
}

const char *log_path(void) { return log_file; }

/*
 * Lines wait in memory while an exec runs: a write to the log file is a
 * system call and a few pages touched on the way to the host's answer, and
 * written later it runs while the host reads the answer instead.
 */
static buf_t waiting;

void logmsg(const char *fmt, ...) {
    if (log_fd < 0) return;
    char line[1024];
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int n = snprintf(line, sizeof line, "[%5lld.%03ld] ", (long long)ts.tv_sec, ts.tv_nsec / 1000000);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    n += m < (int)(sizeof line - n - 1) ? m : (int)(sizeof line - n - 2);
    line[n++] = '\n';
    buf_append(&waiting, line, n);
    if (buf_size(&waiting) >= LOG_HOLD_BYTES) log_flush();
}

void log_flush(void) {
    size_t n = buf_size(&waiting);
    if (log_fd < 0 || n == 0) return;
    /* Keep the file bounded: a guest has little memory in /tmp. The size is
     * counted here and asked of the file only near the limit (one write per
     * flush, not two syscalls). */
    if (log_size < 0 || log_size + (off_t)n > LOG_MAX_BYTES) {
        struct stat st;
        log_size = fstat(log_fd, &st) == 0 ? st.st_size : 0;
        if (log_size + (off_t)n > LOG_MAX_BYTES && ftruncate(log_fd, 0) == 0) {
            static const char note[] = "[log truncated at 1 MiB]\n";
            log_size = 0;
            if (write(log_fd, note, sizeof note - 1) > 0) log_size = sizeof note - 1;
        }
    }
    ssize_t w = write(log_fd, buf_head(&waiting), n);
    if (w > 0) log_size += w;
    buf_clear(&waiting);
}

int log_read(buf_t *out) {
    log_flush();
    if (!log_file) {
        errno = ENOENT;
        return -1;
    }
    int fd = open(log_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    for (;;) {
        buf_reserve(out, 64 * 1024);
        ssize_t r = read(fd, out->data + out->len, 64 * 1024);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (r == 0) break;
        out->len += r;
    }
    close(fd);
    return 0;
}
