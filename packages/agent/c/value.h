/* The Provium value encoding (types/src/agent-protocol.ts ValueTag):
 * nil, false, true, int64, bytes, string, array, map. Lengths are u32 BE. */
#ifndef PROVIUM_VALUE_H
#define PROVIUM_VALUE_H

#include "buf.h"

#include <stdint.h>

enum {
    V_NIL = 0, V_FALSE = 1, V_TRUE = 2, V_INT = 3,
    V_BYTES = 4, V_STR = 5, V_ARRAY = 6, V_MAP = 7,
};

typedef struct value value_t;
typedef struct entry entry_t;

struct value {
    uint8_t type;
    uint32_t n; /* byte length (bytes/string) or item/entry count */
    union {
        int64_t i;
        const uint8_t *bytes; /* points into the decoded frame */
        value_t *items;
        entry_t *entries;
    } u;
};

struct entry {
    const uint8_t *key;
    uint32_t klen;
    value_t val;
};

/* Bump allocator holding one decoded message; freed as a whole. */
typedef struct arena_block arena_block_t;
typedef struct {
    arena_block_t *head;
} arena_t;

void *arena_alloc(arena_t *a, size_t n);
void arena_free(arena_t *a);
/* NUL-terminated copy of a bytes/string value. */
char *arena_strdup(arena_t *a, const value_t *v);

/* Decodes exactly one value spanning [p, p+n). Returns 0, or -1 with *err set. */
int value_decode(arena_t *a, const uint8_t *p, size_t n, value_t *out, const char **err);

const value_t *map_get(const value_t *map, const char *key);

/* Encoding into a buffer. Maps and arrays get their count patched on close. */
void enc_nil(buf_t *b);
void enc_bool(buf_t *b, int v);
void enc_int(buf_t *b, int64_t v);
void enc_bytes(buf_t *b, const void *p, size_t n);
void enc_str(buf_t *b, const char *s);

typedef struct {
    buf_t *b;
    size_t pos; /* offset of the count, relative to b->off at open time */
    uint32_t n;
} coll_t;

coll_t enc_map_open(buf_t *b);
/* Writes a key of the open map; the caller then writes its value. */
void enc_key(coll_t *m, const char *key);
coll_t enc_array_open(buf_t *b);
void enc_array_item(coll_t *a); /* count one item; the caller writes it */
void enc_close(coll_t *c);

#endif
