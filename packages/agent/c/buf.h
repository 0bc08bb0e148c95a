/* Growable byte buffers: the valid bytes are data[off..len). */
#ifndef PROVIUM_BUF_H
#define PROVIUM_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *data;
    size_t off, len, cap;
} buf_t;

void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

static inline size_t buf_size(const buf_t *b) { return b->len - b->off; }
static inline uint8_t *buf_head(const buf_t *b) { return b->data + b->off; }

/* Make room for `extra` more bytes after len (may move the valid bytes to offset 0). */
void buf_reserve(buf_t *b, size_t extra);
void buf_append(buf_t *b, const void *p, size_t n);
void buf_put_u8(buf_t *b, uint8_t v);
void buf_put_u32(buf_t *b, uint32_t v);
void buf_put_u64(buf_t *b, uint64_t v);
void buf_consume(buf_t *b, size_t n);
void buf_clear(buf_t *b);
void buf_free(buf_t *b);

static inline uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void set_u32(uint8_t *p, uint32_t v) {
    p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

#endif
