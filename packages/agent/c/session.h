/* One host session: the hello handshake, then requests dispatched to ops. */
#ifndef PROVIUM_SESSION_H
#define PROVIUM_SESSION_H

#include <stddef.h>
#include <stdint.h>

void session_on_frame(const uint8_t *payload, size_t n);
/* The connection dropped: orphan processes, close handles, await a hello. */
void session_end(void);

#endif
