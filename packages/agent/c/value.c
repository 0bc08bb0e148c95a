#include "value.h"

#include <stdlib.h>
#include <string.h>

struct arena_block {
    arena_block_t *next;
    size_t used, cap;
    max_align_t data[];
};

#define ARENA_BLOCK (64 * 1024)

void *arena_alloc(arena_t *a, size_t n) {
    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    arena_block_t *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        b = xmalloc(sizeof *b + cap);
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

void arena_free(arena_t *a) {
    while (a->head) {
        arena_block_t *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

char *arena_strdup(arena_t *a, const value_t *v) {
    char *s = arena_alloc(a, (size_t)v->n + 1);
    memcpy(s, v->u.bytes, v->n);
    s[v->n] = 0;
    return s;
}

typedef struct {
    arena_t *a;
    const uint8_t *p, *end;
    const char *err;
} reader_t;

#define MAX_DEPTH 32

static int need(reader_t *r, size_t n) {
    if ((size_t)(r->end - r->p) < n) {
        r->err = "value truncated";
        return -1;
    }
    return 0;
}

static int decode(reader_t *r, value_t *v, int depth) {
    if (depth > MAX_DEPTH) {
        r->err = "values nested too deeply";
        return -1;
    }
    if (need(r, 1)) return -1;
    v->type = *r->p++;
    v->n = 0;
    switch (v->type) {
    case V_NIL: case V_FALSE: case V_TRUE:
        return 0;
    case V_INT: {
        if (need(r, 8)) return -1;
        uint64_t x = 0;
        for (int i = 0; i < 8; i++) x = x << 8 | r->p[i];
        r->p += 8;
        v->u.i = (int64_t)x;
        return 0;
    }
    case V_BYTES: case V_STR:
        if (need(r, 4)) return -1;
        v->n = get_u32(r->p);
        r->p += 4;
        if (need(r, v->n)) return -1;
        v->u.bytes = r->p;
        r->p += v->n;
        return 0;
    case V_ARRAY:
        if (need(r, 4)) return -1;
        v->n = get_u32(r->p);
        r->p += 4;
        /* every item takes at least one byte: bounds the allocation */
        if (need(r, v->n)) return -1;
        v->u.items = arena_alloc(r->a, (size_t)v->n * sizeof(value_t));
        for (uint32_t i = 0; i < v->n; i++)
            if (decode(r, &v->u.items[i], depth + 1)) return -1;
        return 0;
    case V_MAP:
        if (need(r, 4)) return -1;
        v->n = get_u32(r->p);
        r->p += 4;
        if (need(r, (size_t)v->n * 5)) return -1;
        v->u.entries = arena_alloc(r->a, (size_t)v->n * sizeof(entry_t));
        for (uint32_t i = 0; i < v->n; i++) {
            entry_t *e = &v->u.entries[i];
            if (need(r, 4)) return -1;
            e->klen = get_u32(r->p);
            r->p += 4;
            if (need(r, e->klen)) return -1;
            e->key = r->p;
            r->p += e->klen;
            if (decode(r, &e->val, depth + 1)) return -1;
        }
        return 0;
    default:
        r->err = "unknown value tag";
        return -1;
    }
}

int value_decode(arena_t *a, const uint8_t *p, size_t n, value_t *out, const char **err) {
    reader_t r = {a, p, p + n, NULL};
    if (decode(&r, out, 0)) {
        *err = r.err;
        return -1;
    }
    if (r.p != r.end) {
        *err = "trailing bytes after the value";
        return -1;
    }
    return 0;
}

const value_t *map_get(const value_t *map, const char *key) {
    if (!map || map->type != V_MAP) return NULL;
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < map->n; i++) {
        const entry_t *e = &map->u.entries[i];
        if (e->klen == kl && memcmp(e->key, key, kl) == 0) return &e->val;
    }
    return NULL;
}

void enc_nil(buf_t *b) { buf_put_u8(b, V_NIL); }
void enc_bool(buf_t *b, int v) { buf_put_u8(b, v ? V_TRUE : V_FALSE); }

void enc_int(buf_t *b, int64_t v) {
    buf_put_u8(b, V_INT);
    buf_put_u64(b, (uint64_t)v);
}

void enc_bytes(buf_t *b, const void *p, size_t n) {
    buf_put_u8(b, V_BYTES);
    buf_put_u32(b, (uint32_t)n);
    buf_append(b, p, n);
}

void enc_str(buf_t *b, const char *s) {
    size_t n = strlen(s);
    buf_put_u8(b, V_STR);
    buf_put_u32(b, (uint32_t)n);
    buf_append(b, s, n);
}

static coll_t coll_open(buf_t *b, uint8_t tag) {
    buf_put_u8(b, tag);
    coll_t c = {b, b->len - b->off, 0};
    buf_put_u32(b, 0);
    return c;
}

coll_t enc_map_open(buf_t *b) { return coll_open(b, V_MAP); }
coll_t enc_array_open(buf_t *b) { return coll_open(b, V_ARRAY); }

void enc_key(coll_t *m, const char *key) {
    size_t n = strlen(key);
    buf_put_u32(m->b, (uint32_t)n);
    buf_append(m->b, key, n);
    m->n++;
}

void enc_array_item(coll_t *a) { a->n++; }

void enc_close(coll_t *c) { set_u32(c->b->data + c->b->off + c->pos, c->n); }
