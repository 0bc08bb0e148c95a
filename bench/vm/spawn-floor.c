/* The guest's own share of vm:run("true"), without Provium: vfork, exec
 * `/bin/sh -c true` (the command line the agent runs), wait; N times.
 * `spawn-floor N PAUSE_US cmd...`: with PAUSE_US > 0 it sleeps that long
 * before each spawn (untimed), so the guest idles between spawns as it does
 * between back-to-back vm:run calls while the host works.
 * Prints the mean time of a spawn in microseconds. Built static by bench/vm/run.mjs. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
    if (argc < 4) return 2;
    int n = atoi(argv[1]);
    int pause_us = atoi(argv[2]);
    double spent = 0;
    for (int i = 0; i < n; i++) {
        if (pause_us > 0) usleep(pause_us);
        double t0 = now_us();
        pid_t pid = vfork();
        if (pid == 0) {
            execv(argv[3], argv + 3);
            _exit(127);
        }
        int status;
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || status != 0) return 1;
        spent += now_us() - t0;
    }
    printf("%.1f\n", spent / n);
    return 0;
}
