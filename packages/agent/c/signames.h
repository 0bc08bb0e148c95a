/* Signal names as the protocol spells them: lowercase, no "SIG" prefix. */
#ifndef PROVIUM_SIGNAMES_H
#define PROVIUM_SIGNAMES_H

/* "term", "TERM", "SIGTERM" or "15" -> 15; -1 when unknown. */
int signal_from_name(const char *name);
/* 15 -> "term"; NULL when not in the table. */
const char *signal_name(int sig);

#endif
