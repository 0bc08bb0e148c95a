#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Out of memory is the one condition the agent does not survive. */
static void oom(size_t n) {
    fprintf(stderr, "provium-agent: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

void buf_reserve(buf_t *b, size_t extra) {
    if (b->cap - b->len >= extra) return;
    if (b->off > 0) {
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
        if (b->cap - b->len >= extra) return;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void buf_append(buf_t *b, const void *p, size_t n) {
    if (!n) return;
    buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void buf_put_u8(buf_t *b, uint8_t v) { buf_append(b, &v, 1); }

void buf_put_u32(buf_t *b, uint32_t v) {
    uint8_t p[4];
    set_u32(p, v);
    buf_append(b, p, 4);
}

void buf_put_u64(buf_t *b, uint64_t v) {
    uint8_t p[8];
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
    buf_append(b, p, 8);
}

void buf_consume(buf_t *b, size_t n) {
    b->off += n;
    if (b->off >= b->len) b->off = b->len = 0;
}

void buf_clear(buf_t *b) { b->off = b->len = 0; }

void buf_free(buf_t *b) {
    free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}
