/* The agent's log file (default /tmp/provium-agent.log), served by the `log` op. */
#ifndef PROVIUM_LOG_H
#define PROVIUM_LOG_H

#include "buf.h"

#define LOG_MAX_BYTES (1024 * 1024)
#define LOG_HOLD_BYTES (64 * 1024)

void log_open(const char *path);
/* Adds a line (stamped now); it waits in memory until log_flush(), or until
 * LOG_HOLD_BYTES wait. At exit() the agent writes what waits. */
void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes the lines that wait: the main loop calls it when no exec is running. */
void log_flush(void);
/* Appends the log's content (lines that wait included) to `out`; returns 0 or -1 with errno set. */
int log_read(buf_t *out);
const char *log_path(void);

#endif
