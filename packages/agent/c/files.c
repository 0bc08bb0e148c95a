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

int fd_read_all(int fd, buf_t *out, size_t max) {
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

int fd_write_all(int fd, const uint8_t *p, size_t n) {
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

void reply_data(const req_t *r, const buf_t *data) {
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
    /* A regular file too big is refused before reading; a file that grows while read, or one stat cannot size, at the limit. */
    else if (S_ISREG(st.st_mode) && st.st_size > (off_t)MAX_COLLECT) err = EFBIG;
    else if (fd_read_all(fd, &data, MAX_COLLECT + 1) < 0) err = errno;
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
    if (!err && fd_write_all(fd, data, len) < 0) err = errno;
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
    int64_t mode = -1;
    if (arg_str(r, "path", 1, &path) || arg_bool(r, "parents", &parents) || arg_int(r, "mode", 0, &mode)) return;
    int exact = mode >= 0; /* an explicit mode applies exactly, past the umask, as write_file's does */
    if (!exact) mode = 0755;
    if (parents) {
        /* create each missing ancestor; existing directories are fine */
        for (char *s = path + 1; *s; s++) {
            if (*s != '/') continue;
            *s = 0;
            int bad = mkdir(path, 0755) < 0 && errno != EEXIST; /* as mkdir -p -m: the mode is the last one's */
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
    } else if (exact && chmod(path, (mode_t)mode & 07777) < 0) {
        reply_errno(r, errno, path, NULL);
        return;
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
