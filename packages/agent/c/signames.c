#include "signames.h"

#include <ctype.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct { const char *name; int sig; } table[] = {
    {"hup", SIGHUP}, {"int", SIGINT}, {"quit", SIGQUIT}, {"ill", SIGILL}, {"trap", SIGTRAP},
    {"abrt", SIGABRT}, {"bus", SIGBUS}, {"fpe", SIGFPE}, {"kill", SIGKILL}, {"usr1", SIGUSR1},
    {"segv", SIGSEGV}, {"usr2", SIGUSR2}, {"pipe", SIGPIPE}, {"alrm", SIGALRM}, {"term", SIGTERM},
    {"stkflt", SIGSTKFLT}, {"chld", SIGCHLD}, {"cont", SIGCONT}, {"stop", SIGSTOP}, {"tstp", SIGTSTP},
    {"ttin", SIGTTIN}, {"ttou", SIGTTOU}, {"urg", SIGURG}, {"xcpu", SIGXCPU}, {"xfsz", SIGXFSZ},
    {"vtalrm", SIGVTALRM}, {"prof", SIGPROF}, {"winch", SIGWINCH}, {"io", SIGIO}, {"pwr", SIGPWR},
    {"sys", SIGSYS},
};

int signal_from_name(const char *name) {
    if (isdigit((unsigned char)name[0])) {
        char *end;
        long n = strtol(name, &end, 10);
        return *end == 0 && n > 0 && n < NSIG ? (int)n : -1;
    }
    if (strncasecmp(name, "sig", 3) == 0) name += 3;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcasecmp(name, table[i].name) == 0) return table[i].sig;
    return -1;
}

const char *signal_name(int sig) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].sig == sig) return table[i].name;
    return NULL;
}
