/* Open file handles (vm:open_file): open, read, write, seek, tell, close. */
#include "handles.h"

#include "files.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct handle {
    struct handle *next;
    int64_t id;
    int fd;
    char *path;
} handle_t;

static handle_t *handles;
static int64_t next_handle = 1;

/* "=" then flag letters: r read, w write, a append (writes), c create, t truncate, x exclusive. */
static int open_flag_letters(const char *letters) {
    int rd = 0, wr = 0, other = 0;
    for (const char *c = letters; *c; c++) {
        switch (*c) {
        case 'r': rd = 1; break;
        case 'w': wr = 1; break;
        case 'a': wr = 1; other |= O_APPEND; break;
        case 'c': other |= O_CREAT; break;
        case 't': other |= O_TRUNC; break;
        case 'x': other |= O_EXCL; break;
        default: return -1;
        }
    }
    if (!rd && !wr) return -1;
    return (rd && wr ? O_RDWR : wr ? O_WRONLY : O_RDONLY) | other;
}

static int open_flags(const char *mode) {
    if (mode[0] == '=') return open_flag_letters(mode + 1);
    char m[4] = {0};
    size_t n = 0;
    for (const char *c = mode; *c; c++) {
        if (*c == 'b') continue;
        if (n == 3) return -1;
        m[n++] = *c;
    }
    static const struct { const char *mode; int flags; } table[] = {
        {"r", O_RDONLY}, {"w", O_WRONLY | O_CREAT | O_TRUNC}, {"a", O_WRONLY | O_CREAT | O_APPEND},
        {"r+", O_RDWR}, {"w+", O_RDWR | O_CREAT | O_TRUNC}, {"a+", O_RDWR | O_CREAT | O_APPEND},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(m, table[i].mode)) return table[i].flags;
    return -1;
}

void op_open(const req_t *r) {
    char *path, *mode = "r";
    int64_t perm = 0644;
    if (arg_str(r, "path", 1, &path) || arg_str(r, "mode", 0, &mode) || arg_int(r, "perm", 0, &perm)) return;
    int flags = open_flags(mode);
    if (flags < 0) {
        reply_error(r->id, "EINVAL", EINVAL, "open: unknown mode '%s' (use r, w, a, r+, w+, a+, or '=' and flags of rwactx)", mode);
        return;
    }
    int fd = open(path, flags | O_CLOEXEC, (mode_t)perm);
    if (fd < 0) {
        reply_errno(r, errno, path, NULL);
        return;
    }
    handle_t *h = xmalloc(sizeof *h);
    *h = (handle_t){handles, next_handle++, fd, xstrdup(path)};
    handles = h;
    coll_t m = resp_ok(r->id);
    enc_key(&m, "handle");
    enc_int(m.b, h->id);
    proto_send(&m);
}

int files_fd(int64_t id, const char **path) {
    for (handle_t *h = handles; h; h = h->next)
        if (h->id == id) {
            *path = h->path;
            return h->fd;
        }
    return -1;
}

/* Finds the handle named by the request; answers EBADF itself when unknown. */
static handle_t *find_handle(const req_t *r) {
    int64_t id;
    if (arg_int(r, "handle", 1, &id)) return NULL;
    for (handle_t *h = handles; h; h = h->next)
        if (h->id == id) return h;
    reply_error(r->id, "EBADF", EBADF, "%s: no open file handle %lld", r->op, (long long)id);
    return NULL;
}

void op_read(const req_t *r) {
    int64_t size;
    handle_t *h = find_handle(r);
    if (!h || arg_int(r, "size", 1, &size)) return;
    if (size < 0 || size > MAX_COLLECT) {
        reply_error(r->id, "EINVAL", EINVAL, "read: size must be 0..%u, got %lld", MAX_COLLECT, (long long)size);
        return;
    }
    buf_t data = {0};
    if (fd_read_all(h->fd, &data, (size_t)size) < 0) reply_errno(r, errno, h->path, NULL);
    else reply_data(r, &data);
    buf_free(&data);
}

void op_write(const req_t *r) {
    const uint8_t *data;
    size_t len;
    handle_t *h = find_handle(r);
    if (!h || arg_bytes(r, "data", 1, &data, &len)) return;
    if (fd_write_all(h->fd, data, len) < 0) {
        reply_errno(r, errno, h->path, NULL);
        return;
    }
    coll_t m = resp_ok(r->id);
    enc_key(&m, "written");
    enc_int(m.b, (int64_t)len);
    proto_send(&m);
}

static void reply_offset(const req_t *r, handle_t *h, off_t off) {
    if (off < 0) {
        reply_errno(r, errno, h->path, NULL);
        return;
    }
    coll_t m = resp_ok(r->id);
    enc_key(&m, "offset");
    enc_int(m.b, off);
    proto_send(&m);
}

void op_seek(const req_t *r) {
    int64_t off;
    char *whence = "set";
    handle_t *h = find_handle(r);
    if (!h || arg_int(r, "offset", 1, &off) || arg_str(r, "whence", 0, &whence)) return;
    int w = !strcmp(whence, "set") ? SEEK_SET : !strcmp(whence, "cur") ? SEEK_CUR : !strcmp(whence, "end") ? SEEK_END : -1;
    if (w < 0) {
        reply_error(r->id, "EINVAL", EINVAL, "seek: whence must be set, cur or end, got '%s'", whence);
        return;
    }
    reply_offset(r, h, lseek(h->fd, off, w));
}

void op_tell(const req_t *r) {
    handle_t *h = find_handle(r);
    if (h) reply_offset(r, h, lseek(h->fd, 0, SEEK_CUR));
}

static void drop_handle(handle_t *h) {
    for (handle_t **pp = &handles; *pp; pp = &(*pp)->next)
        if (*pp == h) {
            *pp = h->next;
            break;
        }
    free(h->path);
    free(h);
}

void op_close(const req_t *r) {
    handle_t *h = find_handle(r);
    if (!h) return;
    int rc = close(h->fd), err = errno;
    char *path = h->path;
    h->path = NULL;
    drop_handle(h);
    if (rc < 0) reply_errno(r, err, path, NULL);
    else reply_ok(r);
    free(path);
}

void files_close_all(void) {
    while (handles) {
        close(handles->fd);
        drop_handle(handles);
    }
}
