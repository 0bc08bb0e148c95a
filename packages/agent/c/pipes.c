#include "pipes.h"

#include <fcntl.h>
#include <unistd.h>

/* spare[s]: {agent's read end, child's write end} of a pipe made ahead, or -1s. */
static int spare[2][2] = {{-1, -1}, {-1, -1}};

/* Fds to close at the next tidy; bounded, for execs that overlap without end. */
#define RETIRED_MAX 64
static int retired[RETIRED_MAX];
static int n_retired;

void close_fd(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

static int new_output_pipe(int p[2]) {
    if (pipe2(p, O_CLOEXEC) != 0) return -1;
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    return 0;
}

int pipes_output(int s, int p[2]) {
    if (spare[s][0] < 0) return new_output_pipe(p);
    p[0] = spare[s][0], p[1] = spare[s][1];
    spare[s][0] = spare[s][1] = -1;
    return 0;
}

int pipes_input(int p[2]) {
    if (pipe2(p, O_CLOEXEC) != 0) return -1;
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    return 0;
}

static void close_retired(void) {
    while (n_retired > 0) close(retired[--n_retired]);
}

void pipes_retire(int fd) {
    if (fd < 0) return;
    if (n_retired == RETIRED_MAX) close_retired();
    retired[n_retired++] = fd;
}

void pipes_tidy(void) {
    close_retired();
    for (int s = 0; s < 2; s++)
        if (spare[s][0] < 0 && new_output_pipe(spare[s]) != 0) return; /* out of fds: a launch says so */
}
