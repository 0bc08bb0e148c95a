/* The agent's log file (default /tmp/provium-agent.log), served by the `log` op. */
#ifndef PROVIUM_LOG_H
#define PROVIUM_LOG_H

#include "buf.h"

#define LOG_MAX_BYTES (1024 * 1024)

void log_open(const char *path);
void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Appends the log's content to `out`; returns 0 or -1 with errno set. */
int log_read(buf_t *out);
const char *log_path(void);

#endif
