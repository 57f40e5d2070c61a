/* Expanding the compressed snapshot at instantiation: a raw DEFLATE (RFC 1951) decoder.
 *
 * The build stores the snapshot's memory as one DEFLATE stream placed at the end of where its
 * bytes go, far enough from the start that the decoder never writes over input it has not
 * read (expansion in place: the stream's pages become the memory's), and makes the module's
 * start function call `pywasm_expand` with where the stream is, where its bytes go and a
 * scratch area for the decoder's tables; both are zeroed when it is done. It runs before
 * anything else reads memory, so it must read nothing but those areas: no static data (its
 * constants are computed, not initialized arrays) and no stack memory (every local is a
 * scalar whose address is never taken). Zero bytes below the stream are not written, so pages
 * of memory that hold only zeros stay untouched (the memory starts zeroed).
 *
 * Speed matters (it runs once per VM): the bit buffer lives in locals, and codes of up to
 * FAST_BITS bits are decoded with one table lookup.
 */
#include <stdint.h>

#include "pywasm.h"

#define MAX_BITS 15
#define FAST_BITS 9
#define LITERALS 288
#define DISTANCES 32
#define END_OF_BLOCK 256
/* The decoder reads up to this many bytes past the stream's end (the scratch area is there). */
#define READ_AHEAD 4

/* A canonical Huffman code: code counts per length, symbols in code order, and a table
 * indexed by the next FAST_BITS input bits giving symbol << 4 | length (0: a longer code). */
struct code {
    uint16_t count[MAX_BITS + 1];
    uint16_t symbol[LITERALS];
    uint16_t fast[1 << FAST_BITS];
};

struct tables {
    struct code literal, distance;
    uint16_t lengths[LITERALS + DISTANCES];
    uint16_t offset[MAX_BITS + 2];
};

/* The decoder's position: input, bit buffer and output, held in locals by each loop. */
#define NEED(n)                                                                              \
    while (count < (n)) {                                                                    \
        if (in >= in_end + READ_AHEAD) __builtin_trap();                                     \
        bits |= (uint32_t)*in++ << count;                                                    \
        count += 8;                                                                          \
    }
#define DROP(n) (bits >>= (n), count -= (n))
#define TAKE(var, n)                                                                         \
    do {                                                                                     \
        NEED(n)                                                                              \
        (var) = bits & ((1u << (n)) - 1);                                                    \
        DROP(n);                                                                             \
    } while (0)

/* Build `code` from the code length of each of `n` symbols; traps on an over-full code. */
static void build(struct tables *t, struct code *code, const uint16_t *lengths, uint32_t n) {
    uint16_t *offset = t->offset;
    for (uint32_t len = 0; len <= MAX_BITS; len++) code->count[len] = 0;
    for (uint32_t s = 0; s < n; s++) code->count[lengths[s]]++;
    int32_t left = 1;
    offset[1] = 0;
    for (uint32_t len = 1; len <= MAX_BITS; len++) {
        left = (left << 1) - code->count[len];
        if (left < 0) __builtin_trap();
        offset[len + 1] = (uint16_t)(offset[len] + code->count[len]);
    }
    for (uint32_t i = 0; i < (1u << FAST_BITS); i++) code->fast[i] = 0;
    uint32_t next = 0; /* the next code of the current length, MSB first */
    for (uint32_t len = 1; len <= MAX_BITS; len++) {
        for (uint32_t s = 0; s < n; s++) {
            if (lengths[s] != len) continue;
            code->symbol[offset[len]++] = (uint16_t)s;
            if (len <= FAST_BITS) {
                uint32_t reversed = 0;
                for (uint32_t b = 0; b < len; b++) reversed |= ((next >> b) & 1) << (len - 1 - b);
                for (uint32_t i = reversed; i < (1u << FAST_BITS); i += 1u << len)
                    code->fast[i] = (uint16_t)(s << 4 | len);
            }
            next++;
        }
        next <<= 1;
    }
}

/* The longer code at the head of `bits` (at least MAX_BITS valid), as symbol << 4 | length. */
static uint32_t slow_decode(const struct code *code, uint32_t bits) {
    int32_t value = 0, first = 0, index = 0;
    for (uint32_t len = 1; len <= MAX_BITS; len++) {
        value |= (int32_t)(bits & 1);
        bits >>= 1;
        int32_t n = code->count[len];
        if (value - first < n) return (uint32_t)code->symbol[index + value - first] << 4 | len;
        index += n;
        first = (first + n) << 1;
        value <<= 1;
    }
    __builtin_trap();
}

#define DECODE(var, code)                                                                    \
    do {                                                                                     \
        NEED(MAX_BITS)                                                                       \
        uint32_t entry_ = (code)->fast[bits & ((1u << FAST_BITS) - 1)];                     \
        if (entry_ == 0) entry_ = slow_decode((code), bits);                                 \
        (var) = entry_ >> 4;                                                                 \
        DROP(entry_ & 15);                                                                   \
    } while (0)

/* Position in the code length alphabet of the `i`th code length sent (RFC 1951, 3.2.7). */
static uint32_t length_order(uint32_t i) {
    if (i < 3) return 16 + i;
    if (i == 3) return 0;
    uint32_t j = i - 4;
    return j & 1 ? 7 - j / 2 : 8 + j / 2;
}

/* Expand the DEFLATE stream [in, in + size) to `out`, with `t` (PYWASM_EXPAND_SCRATCH bytes
 * in snapshot.py's packed module) for the code tables. Traps on a damaged stream. */
PYWASM_EXPORT(__pywasm_expand)
void pywasm_expand(uint8_t *out, const uint8_t *in, uint32_t size, struct tables *t) {
    const uint8_t *in_end = in + size;
    /* From here on, memory holds the stream, not zeros: every byte is written. */
    const uint8_t *dirty = in;
    uint32_t bits = 0, count = 0, last, type;
    do {
        TAKE(last, 1);
        TAKE(type, 2);
        if (type == 0) {
            uint32_t length, complement;
            DROP(count & 7);
            TAKE(length, 16);
            TAKE(complement, 16);
            in -= count / 8; /* whole bytes already buffered belong to the block */
            bits = 0;
            count = 0;
            if ((length ^ 0xFFFF) != complement || (uint32_t)(in_end - in) < length)
                __builtin_trap();
            for (uint32_t i = 0; i < length; i++)
                if (in[i] != 0 || out + i >= dirty) out[i] = in[i];
            in += length;
            out += length;
            continue;
        }
        if (type == 1) {
            for (uint32_t s = 0; s < LITERALS; s++)
                t->lengths[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
            build(t, &t->literal, t->lengths, LITERALS);
            for (uint32_t s = 0; s < DISTANCES; s++) t->lengths[s] = 5;
            build(t, &t->distance, t->lengths, DISTANCES);
        } else if (type == 2) {
            uint32_t literals, distances, sent, value;
            TAKE(literals, 5);
            TAKE(distances, 5);
            TAKE(sent, 4);
            literals += 257;
            distances += 1;
            for (uint32_t i = 0; i < 19; i++) t->lengths[length_order(i)] = 0;
            for (uint32_t i = 0; i < sent + 4; i++) {
                TAKE(value, 3);
                t->lengths[length_order(i)] = (uint16_t)value;
            }
            build(t, &t->literal, t->lengths, 19);
            for (uint32_t i = 0; i < literals + distances;) {
                uint32_t symbol, repeat;
                uint16_t length = 0;
                DECODE(symbol, &t->literal);
                if (symbol < 16) {
                    t->lengths[i++] = (uint16_t)symbol;
                    continue;
                }
                if (symbol == 16) {
                    if (i == 0) __builtin_trap();
                    length = t->lengths[i - 1];
                    TAKE(repeat, 2);
                    repeat += 3;
                } else if (symbol == 17) {
                    TAKE(repeat, 3);
                    repeat += 3;
                } else {
                    TAKE(repeat, 7);
                    repeat += 11;
                }
                if (i + repeat > literals + distances) __builtin_trap();
                while (repeat--) t->lengths[i++] = length;
            }
            build(t, &t->literal, t->lengths, literals);
            build(t, &t->distance, t->lengths + literals, distances);
        } else {
            __builtin_trap();
        }
        for (;;) {
            uint32_t symbol, length, distance, extra;
            DECODE(symbol, &t->literal);
            if (symbol < END_OF_BLOCK) {
                if (symbol != 0 || out >= dirty) *out = (uint8_t)symbol;
                out++;
                continue;
            }
            if (symbol == END_OF_BLOCK) break;
            uint32_t i = symbol - 257;
            if (i < 8) {
                length = i + 3;
            } else if (i < 28) {
                uint32_t n = (i >> 2) - 1;
                TAKE(extra, n);
                length = ((4 + (i & 3)) << n) + 3 + extra;
            } else if (i == 28) {
                length = 258;
            } else {
                __builtin_trap();
            }
            DECODE(symbol, &t->distance);
            if (symbol < 4) {
                distance = symbol + 1;
            } else if (symbol < 30) {
                uint32_t n = (symbol >> 1) - 1;
                TAKE(extra, n);
                distance = ((2 + (symbol & 1)) << n) + 1 + extra;
            } else {
                __builtin_trap();
            }
            const uint8_t *from = out - distance;
            if (distance == 1 && *from == 0 && out + length <= dirty) { /* zeros: there */
                out += length;
                continue;
            }
            for (uint32_t k = 0; k < length; k++)
                if (from[k] != 0 || out + k >= dirty) out[k] = from[k];
            out += length;
        }
    } while (!last);
    if (in - count / 8 > in_end) __builtin_trap();
    /* What is left of the stream past the expanded bytes, and the tables, become zeros. */
    for (uint8_t *rest = out; rest < in_end; rest++) *rest = 0;
    __builtin_memset(t, 0, sizeof *t);
}

/* snapshot.py's packed.EXPAND_SCRATCH bytes hold the tables. */
_Static_assert(sizeof(struct tables) <= 4096, "packed.EXPAND_SCRATCH is 4096");
