#include "worker_privs.h"

#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* capabilities(7), by number */
static const char *const cap_names[] = {
    "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
    "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
    "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
    "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write", "audit_control", "setfcap",
    "mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf",
    "checkpoint_restore",
};
#define NCAPS ((int)(sizeof cap_names / sizeof cap_names[0]))

/* The namespaces a worker can have of its own. A pid namespace is not among
 * them: it would hold only the worker's first command (see workers.md). */
static const struct {
    const char *name;
    int flag;
} namespaces[] = {
    {"net", CLONE_NEWNET}, {"mount", CLONE_NEWNS}, {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC}, {"cgroup", CLONE_NEWCGROUP},
};

/* "net_admin", "NET_ADMIN" or "CAP_NET_ADMIN" -> 12; -1 when unknown */
static int cap_number(const char *s) {
    if (!strncasecmp(s, "cap_", 4)) s += 4;
    for (int i = 0; i < NCAPS; i++)
        if (!strcasecmp(s, cap_names[i])) return i;
    return -1;
}

static const value_t *list_arg(const req_t *r, const char *key) {
    const value_t *v = map_get(r->msg, key);
    if (!v || v->type == V_NIL) return NULL;
    if (v->type == V_ARRAY) return v;
    reply_error(r->id, "EINVAL", EINVAL, "%s: '%s' must be a list of names", r->op, key);
    return (const value_t *)-1;
}

int privs_from(const req_t *r, privs_t *p) {
    memset(p, 0, sizeof *p);
    const value_t *caps = list_arg(r, "caps"), *ns = list_arg(r, "unshare");
    if (caps == (const value_t *)-1 || ns == (const value_t *)-1) return -1;
    for (uint32_t i = 0; caps && i < caps->n; i++) {
        const value_t *it = &caps->u.items[i];
        char *name = it->type == V_STR ? arena_strdup(r->arena, it) : NULL;
        int n = name ? cap_number(name) : -1;
        if (n < 0) {
            reply_error(r->id, "EINVAL", EINVAL, "%s: item %u of 'caps' is not a capability name such as \"net_admin\" (capabilities(7))",
                        r->op, i + 1);
            return -1;
        }
        p->caps |= 1ull << n;
    }
    p->has_caps = caps != NULL;
    for (uint32_t i = 0; ns && i < ns->n; i++) {
        const value_t *it = &ns->u.items[i];
        int flag = 0;
        for (size_t k = 0; it->type == V_STR && k < sizeof namespaces / sizeof namespaces[0]; k++)
            if (strlen(namespaces[k].name) == it->n && !memcmp(namespaces[k].name, it->u.bytes, it->n)) flag = namespaces[k].flag;
        if (!flag) {
            reply_error(r->id, "EINVAL", EINVAL, "%s: item %u of 'unshare' must be one of \"net\", \"mount\", \"uts\", \"ipc\", \"cgroup\"",
                        r->op, i + 1);
            return -1;
        }
        p->ns_flags |= flag;
    }
    return 0;
}

int privs_before_setuid(const privs_t *p, char *step, size_t n) {
    if (p->ns_flags) {
        snprintf(step, n, "unshare");
        if (unshare(p->ns_flags) < 0) return -1;
        /* as unshare(1): the worker's mounts stay its own */
        snprintf(step, n, "making / private in the new mount namespace");
        if ((p->ns_flags & CLONE_NEWNS) && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) return -1;
    }
    if (!p->has_caps) return 0;
    /* The bounding set limits even root's capabilities after exec. */
    for (int c = 0; c <= 63; c++) {
        if (p->caps & (1ull << c)) continue;
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) { /* EINVAL: past the kernel's last */
            snprintf(step, n, "dropping capability %d from the bounding set", c);
            return -1;
        }
    }
    snprintf(step, n, "PR_SET_KEEPCAPS");
    return prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
}

int privs_after_setuid(const privs_t *p, char *step, size_t n) {
    if (!p->has_caps) return 0;
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    for (int i = 0; i < 2; i++) {
        uint32_t bits = (uint32_t)(p->caps >> (32 * i));
        data[i].effective = data[i].permitted = data[i].inheritable = bits;
    }
    snprintf(step, n, "capset");
    if (syscall(SYS_capset, &hdr, data) < 0) return -1;
    /* Ambient capabilities survive the exec of the (unprivileged) agent binary and of its commands. */
    for (int c = 0; c < 64; c++) {
        if (!(p->caps & (1ull << c))) continue;
        snprintf(step, n, "raising ambient capability %s", c < NCAPS ? cap_names[c] : "?");
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) return -1;
    }
    return 0;
}
