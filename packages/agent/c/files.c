#include "files.h"

#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* An entry type as one letter (ls -l's, "o" for other), and its name in the protocol. */
static char type_code(mode_t m) {
    if (S_ISREG(m)) return 'f';
    if (S_ISDIR(m)) return 'd';
    if (S_ISLNK(m)) return 'l';
    if (S_ISFIFO(m)) return 'p';
    if (S_ISSOCK(m)) return 's';
    if (S_ISBLK(m)) return 'b';
    if (S_ISCHR(m)) return 'c';
    return 'o';
}

static const char *type_name(char code) {
    switch (code) {
    case 'f': return "file";
    case 'd': return "directory";
    case 'l': return "symlink";
    case 'p': return "fifo";
    case 's': return "socket";
    case 'b': return "block_device";
    case 'c': return "char_device";
    default: return "other";
    }
}

/* Reads until EOF or `max` bytes; -1 with errno on failure. */
static int read_all(int fd, buf_t *out, size_t max) {
    for (;;) {
        if (buf_size(out) >= max) return 0;
        size_t want = max - buf_size(out);
        if (want > 1024 * 1024) want = 1024 * 1024;
        buf_reserve(out, want);
        ssize_t n = read(fd, out->data + out->len, want);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) return 0;
        out->len += n;
    }
}

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= w;
    }
    return 0;
}

static void reply_data(const req_t *r, const buf_t *data) {
    coll_t m = resp_ok(r->id);
    enc_key(&m, "data");
    enc_bytes(m.b, buf_head(data), buf_size(data));
    proto_send(&m);
}

void op_read_file(const req_t *r) {
    char *path;
    if (arg_str(r, "path", 1, &path)) return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        reply_errno(r, errno, path, NULL);
        return;
    }
    struct stat st;
    buf_t data = {0};
    int err = 0;
    if (fstat(fd, &st) < 0) err = errno;
    else if (S_ISDIR(st.st_mode)) err = EISDIR;
    else if (read_all(fd, &data, MAX_COLLECT + 1) < 0) err = errno;
    else if (buf_size(&data) > MAX_COLLECT) err = EFBIG;
    close(fd);
    if (err) reply_errno(r, err, path, NULL);
    else reply_data(r, &data);
    buf_free(&data);
}

void op_write_file(const req_t *r) {
    char *path;
    const uint8_t *data;
    size_t len;
    int64_t mode = -1;
    if (arg_str(r, "path", 1, &path) || arg_bytes(r, "data", 1, &data, &len) || arg_int(r, "mode", 0, &mode)) return;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode >= 0 ? (mode_t)mode : 0644);
    if (fd < 0) {
        reply_errno(r, errno, path, NULL);
        return;
    }
    /* an explicit mode applies to existing files too, and ignores the umask */
    int err = 0;
    if (mode >= 0 && fchmod(fd, (mode_t)mode & 07777) < 0) err = errno;
    if (!err && write_all(fd, data, len) < 0) err = errno;
    if (close(fd) < 0 && !err) err = errno;
    if (err) reply_errno(r, err, path, NULL);
    else reply_ok(r);
}

void op_stat(const req_t *r) {
    char *path;
    if (arg_str(r, "path", 1, &path)) return;
    struct stat st;
    if (stat(path, &st) < 0) {
        reply_errno(r, errno, path, NULL);
        return;
    }
    coll_t m = resp_ok(r->id);
    enc_key(&m, "size");
    enc_int(m.b, st.st_size);
    enc_key(&m, "mtime_sec");
    enc_int(m.b, st.st_mtim.tv_sec);
    enc_key(&m, "mtime_nsec");
    enc_int(m.b, st.st_mtim.tv_nsec);
    enc_key(&m, "perm");
    enc_int(m.b, st.st_mode & 07777);
    enc_key(&m, "entry_type");
    enc_str(m.b, type_name(type_code(st.st_mode)));
    enc_key(&m, "uid");
    enc_int(m.b, st.st_uid);
    enc_key(&m, "gid");
    enc_int(m.b, st.st_gid);
    proto_send(&m);
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void op_listdir(const req_t *r) {
    char *path;
    if (arg_str(r, "path", 1, &path)) return;
    DIR *d = opendir(path);
    if (!d) {
        reply_errno(r, errno, path, NULL);
        return;
    }
    /* entries as "<type char><name>", sorted by name afterwards */
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char type; /* as type_code() */
        switch (e->d_type) {
        case DT_REG: type = 'f'; break;
        case DT_DIR: type = 'd'; break;
        case DT_LNK: type = 'l'; break;
        case DT_FIFO: type = 'p'; break;
        case DT_SOCK: type = 's'; break;
        case DT_BLK: type = 'b'; break;
        case DT_CHR: type = 'c'; break;
        case DT_UNKNOWN: {
            struct stat st;
            type = fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? type_code(st.st_mode) : 'o';
            break;
        }
        default: type = 'o';
        }
        if (n == cap) names = xrealloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
        size_t len = strlen(e->d_name);
        char *s = arena_alloc(r->arena, len + 2);
        s[0] = type;
        memcpy(s + 1, e->d_name, len + 1);
        names[n++] = s;
    }
    closedir(d);
    /* sort on the names, skipping the type character */
    for (size_t i = 0; i < n; i++) names[i]++;
    qsort(names, n, sizeof *names, by_name);
    coll_t m = resp_ok(r->id);
    enc_key(&m, "entries");
    coll_t a = enc_array_open(m.b);
    for (size_t i = 0; i < n; i++) {
        enc_array_item(&a);
        coll_t ent = enc_map_open(m.b);
        enc_key(&ent, "name");
        enc_str(m.b, names[i]);
        enc_key(&ent, "entry_type");
        enc_str(m.b, type_name(names[i][-1]));
        enc_close(&ent);
    }
    enc_close(&a);
    proto_send(&m);
    free(names);
}

void op_mkdir(const req_t *r) {
    char *path;
    int parents = 0;
    int64_t mode = 0755;
    if (arg_str(r, "path", 1, &path) || arg_bool(r, "parents", &parents) || arg_int(r, "mode", 0, &mode)) return;
    if (parents) {
        /* create each missing ancestor; existing directories are fine */
        for (char *s = path + 1; *s; s++) {
            if (*s != '/') continue;
            *s = 0;
            int bad = mkdir(path, (mode_t)mode) < 0 && errno != EEXIST;
            int err = errno;
            *s = '/';
            if (bad) {
                *s = 0;
                reply_errno(r, err, path, NULL);
                return;
            }
        }
    }
    if (mkdir(path, (mode_t)mode) < 0) {
        struct stat st;
        int err = errno;
        if (!(parents && err == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
            reply_errno(r, err, path, NULL);
            return;
        }
    }
    reply_ok(r);
}

void op_unlink(const req_t *r) {
    char *path;
    if (arg_str(r, "path", 1, &path)) return;
    struct stat st;
    /* an empty directory is removed too (rmdir) */
    int rc = lstat(path, &st) == 0 && S_ISDIR(st.st_mode) ? rmdir(path) : unlink(path);
    if (rc < 0) reply_errno(r, errno, path, NULL);
    else reply_ok(r);
}

void op_rename(const req_t *r) {
    char *from, *to;
    if (arg_str(r, "from", 1, &from) || arg_str(r, "to", 1, &to)) return;
    if (rename(from, to) < 0) reply_errno(r, errno, from, to);
    else reply_ok(r);
}

// ------------------------------------------------------------------ handles

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

int files_fd(int64_t id) {
    for (handle_t *h = handles; h; h = h->next)
        if (h->id == id) return h->fd;
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
    if (read_all(h->fd, &data, (size_t)size) < 0) reply_errno(r, errno, h->path, NULL);
    else reply_data(r, &data);
    buf_free(&data);
}

void op_write(const req_t *r) {
    const uint8_t *data;
    size_t len;
    handle_t *h = find_handle(r);
    if (!h || arg_bytes(r, "data", 1, &data, &len)) return;
    if (write_all(h->fd, data, len) < 0) {
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
