/* The pipes between the agent and its commands. The stdout/stderr pipes of
 * the next command are made ahead, and an exec's pipes are closed after its
 * answer: both while the agent would only wait for the host's next request.
 * Each pipe2, fcntl and close costs tens of microseconds under TCG, and
 * freeing a pipe leaves the guest kernel work for later (deferred fput, RCU)
 * that would otherwise land in the next command. */
#ifndef PROVIUM_PIPES_H
#define PROVIUM_PIPES_H

/* The pipe of output stream s (0: stdout, 1: stderr): p[0] the agent's end
 * (non-blocking), p[1] the child's. 0, or -1 with errno set. */
int pipes_output(int s, int p[2]);
/* A stdin pipe: p[0] the child's end, p[1] the agent's (non-blocking). */
int pipes_input(int p[2]);
/* Closes `fd` at the next pipes_tidy() (or at once when many wait). */
void pipes_retire(int fd);
/* Closes the retired fds and makes the next command's output pipes. Called
 * while no exec runs. */
void pipes_tidy(void);
/* Closes an fd of ours now and marks it closed (-1). */
void close_fd(int *fd);

#endif
