/* Expanding the compressed snapshot at instantiation: an LZMA decoder.
 *
 * The build stores the snapshot's memory as LZMA streams, one per run of memory between long
 * zero gaps (a header, then the raw range-coded data; see compiler/pywasm_filter/wasm/
 * packed.py), the first placed at the end of where its bytes go,
 * far enough from the start that the decoder never writes over input it has not read
 * (expansion in place: the stream's pages become the memory's), and makes the module's start
 * function call `pywasm_expand` with where the stream is, where its bytes go and a scratch
 * area for the decoder's probabilities; both are zeroed when it is done. It runs before
 * anything else reads memory, so it must read nothing but those areas: no static data (its
 * constants are literals, not initialized arrays) and no stack memory (every local is a
 * scalar whose address is never taken, so the range coder's state lives in macros, not in
 * helper functions). Zero bytes below the stream are not written, so pages of memory that
 * hold only zeros stay untouched (the memory starts zeroed). A small stream may instead lie
 * below where its bytes go (so that a module's data segments stay close together); then no
 * zero byte is written at all, and the stream is zeroed when done.
 *
 * The header: one byte of LZMA properties (lc + 9 * lp + 45 * pb, with lc + lp <= 2 so the
 * literal probabilities fit the scratch area), then the expanded size (4 bytes, little
 * endian); the data ends with LZMA's end marker, which must come right after that many bytes.
 * Traps on a damaged stream.
 */
#include <stdint.h>

#include "pywasm.h"

#define STATES 12
#define LITERAL_STATES 7 /* states below this one follow a literal */
#define PROB_INIT 1024   /* probability 1/2 in 11 bits */
#define HEADER 5

/* Eight bytes read at once, at any address: zero runs are scanned a word at a time. */
typedef uint64_t __attribute__((aligned(1), may_alias)) unaligned_word;

/* How the length of a match is coded: a choice between 8 short, 8 middle and 256 long. */
struct lengths {
    uint16_t choice, choice2, low[16][8], mid[16][8], high[256];
};

/* Every adaptive probability of the decoder, each 11 bits. */
struct model {
    uint16_t is_match[STATES][16], is_rep[STATES], is_rep_g0[STATES], is_rep_g1[STATES];
    uint16_t is_rep_g2[STATES], is_rep0_long[STATES][16];
    uint16_t slot[4][64], special[115], align[16];
    struct lengths match_length, rep_length;
    uint16_t literal[4][0x300];
};

/* The range decoder, on the locals `range`, `code`, `in` and `in_end` of `pywasm_expand`. */
#define NORMALIZE                                                                            \
    if (range < (1u << 24)) {                                                                \
        if (in >= in_end) __builtin_trap();                                                  \
        range <<= 8;                                                                         \
        code = code << 8 | *in++;                                                            \
    }
#define BIT(prob, bit)                                                                       \
    do {                                                                                     \
        uint16_t *p_ = (prob);                                                               \
        uint32_t bound_ = (range >> 11) * *p_;                                               \
        if (code < bound_) {                                                                 \
            range = bound_;                                                                  \
            *p_ = (uint16_t)(*p_ + ((2048 - *p_) >> 5));                                     \
            (bit) = 0;                                                                       \
        } else {                                                                             \
            range -= bound_;                                                                 \
            code -= bound_;                                                                  \
            *p_ = (uint16_t)(*p_ - (*p_ >> 5));                                              \
            (bit) = 1;                                                                       \
        }                                                                                    \
        NORMALIZE                                                                            \
    } while (0)
/* `n` bits, most significant first, through the binary tree of probabilities `probs`. */
#define TREE(probs, n, out)                                                                  \
    do {                                                                                     \
        uint32_t m_ = 1, b_;                                                                 \
        for (uint32_t i_ = 0; i_ < (n); i_++) {                                              \
            BIT(&(probs)[m_], b_);                                                           \
            m_ = m_ << 1 | b_;                                                               \
        }                                                                                    \
        (out) = m_ - (1u << (n));                                                            \
    } while (0)
/* `n` bits, least significant first, through a tree of probabilities. */
#define REVERSE_TREE(probs, n, out)                                                          \
    do {                                                                                     \
        uint32_t m_ = 1, b_;                                                                 \
        (out) = 0;                                                                           \
        for (uint32_t i_ = 0; i_ < (n); i_++) {                                              \
            BIT(&(probs)[m_], b_);                                                           \
            m_ = m_ << 1 | b_;                                                               \
            (out) |= b_ << i_;                                                               \
        }                                                                                    \
    } while (0)
/* `n` bits of probability 1/2, most significant first. */
#define DIRECT(n, out)                                                                       \
    do {                                                                                     \
        (out) = 0;                                                                           \
        for (uint32_t i_ = 0; i_ < (n); i_++) {                                              \
            range >>= 1;                                                                     \
            uint32_t b_ = code >= range;                                                     \
            if (b_) code -= range;                                                           \
            (out) = (out) << 1 | b_;                                                         \
            NORMALIZE                                                                        \
        }                                                                                    \
    } while (0)
#define LENGTH(coder, pos_state, out)                                                      \
    do {                                                                                     \
        struct lengths *l_ = (coder);                                                        \
        uint32_t c_;                                                                         \
        BIT(&l_->choice, c_);                                                                \
        if (!c_) {                                                                           \
            TREE(l_->low[pos_state], 3, out);                                                \
        } else {                                                                             \
            BIT(&l_->choice2, c_);                                                           \
            if (!c_) {                                                                       \
                TREE(l_->mid[pos_state], 3, out);                                            \
                (out) += 8;                                                                  \
            } else {                                                                         \
                TREE(l_->high, 8, out);                                                      \
                (out) += 16;                                                                 \
            }                                                                                \
        }                                                                                    \
    } while (0)
/* Write byte `b` at `out`: zeros below the stream are already there. */
#define PUT(b)                                                                               \
    do {                                                                                     \
        uint8_t b_ = (b);                                                                    \
        if (b_ != 0 || out >= dirty) *out = b_;                                              \
        out++;                                                                               \
    } while (0)

/* Expand the stream [in, in + size) to `out`, with `m` (packed.EXPAND_SCRATCH bytes) for the
 * probabilities. */
PYWASM_EXPORT(__pywasm_expand)
void pywasm_expand(uint8_t *out, uint8_t *in, uint32_t size, struct model *m) {
    uint8_t *in_start = in, *in_end = in + size;
    if (size < HEADER + 5) __builtin_trap();
    uint32_t properties = in[0];
    uint32_t lc = properties % 9, lp = properties / 9 % 5, pb = properties / 45;
    if (properties >= 225 || lc + lp > 2) __builtin_trap();
    uint32_t lp_mask = (1u << lp) - 1, pb_mask = (1u << pb) - 1;
    uint8_t *start = out, *end = out + (in[1] | in[2] << 8 | in[3] << 16 | (uint32_t)in[4] << 24);
    if (in_start < start && in_end > start) __builtin_trap(); /* below, but reaching its bytes */
    /* From here on, memory holds the stream, not zeros: every byte is written. */
    const uint8_t *dirty = in_start >= start ? in_start : end;
    in += HEADER;
    uint16_t *probs = (uint16_t *)m;
    for (uint32_t i = 0; i < sizeof *m / sizeof *probs; i++) probs[i] = PROB_INIT;

    if (*in++ != 0) __builtin_trap();
    uint32_t range = 0xFFFFFFFF, code = 0;
    for (uint32_t i = 0; i < 4; i++) code = code << 8 | *in++;
    uint32_t state = 0, rep0 = 0, rep1 = 0, rep2 = 0, rep3 = 0, bit, length;
    for (;;) { /* until the end marker, which must come where the header's size says */
        uint32_t position = (uint32_t)(out - start), pos_state = position & pb_mask;
        BIT(&m->is_match[state][pos_state], bit);
        if (!bit) {
            if (out >= end) __builtin_trap();
            uint32_t previous = position ? out[-1] : 0, symbol = 1;
            uint16_t *literal = m->literal[((position & lp_mask) << lc) + (previous >> (8 - lc))];
            if (state >= LITERAL_STATES) {
                if (rep0 >= position) __builtin_trap();
                uint32_t match = out[-(int32_t)rep0 - 1];
                do {
                    uint32_t match_bit = (match >> 7) & 1;
                    match <<= 1;
                    BIT(&literal[((1 + match_bit) << 8) + symbol], bit);
                    symbol = symbol << 1 | bit;
                    if (match_bit != bit) break;
                } while (symbol < 0x100);
            }
            while (symbol < 0x100) {
                BIT(&literal[symbol], bit);
                symbol = symbol << 1 | bit;
            }
            PUT((uint8_t)symbol);
            state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
            continue;
        }
        BIT(&m->is_rep[state], bit);
        if (!bit) {
            rep3 = rep2;
            rep2 = rep1;
            rep1 = rep0;
            LENGTH(&m->match_length, pos_state, length);
            state = state < LITERAL_STATES ? 7 : 10;
            uint32_t slot, extra;
            TREE(m->slot[length < 3 ? length : 3], 6, slot);
            if (slot < 4) {
                rep0 = slot;
            } else {
                uint32_t n = (slot >> 1) - 1;
                rep0 = (2 | (slot & 1)) << n;
                if (slot < 14) {
                    REVERSE_TREE(m->special + rep0 - slot, n, extra);
                } else {
                    DIRECT(n - 4, extra);
                    rep0 += extra << 4;
                    REVERSE_TREE(m->align, 4, extra);
                }
                rep0 += extra;
            }
            if (rep0 == 0xFFFFFFFF) break; /* the end marker */
        } else {
            BIT(&m->is_rep_g0[state], bit);
            if (!bit) {
                BIT(&m->is_rep0_long[state][pos_state], bit);
                if (!bit) { /* one byte from rep0 */
                    if (rep0 >= position || out >= end) __builtin_trap();
                    state = state < LITERAL_STATES ? 9 : 11;
                    PUT(out[-(int32_t)rep0 - 1]);
                    continue;
                }
            } else {
                uint32_t distance;
                BIT(&m->is_rep_g1[state], bit);
                if (!bit) {
                    distance = rep1;
                } else {
                    BIT(&m->is_rep_g2[state], bit);
                    if (!bit) {
                        distance = rep2;
                    } else {
                        distance = rep3;
                        rep3 = rep2;
                    }
                    rep2 = rep1;
                }
                rep1 = rep0;
                rep0 = distance;
            }
            LENGTH(&m->rep_length, pos_state, length);
            state = state < LITERAL_STATES ? 8 : 11;
        }
        length += 2;
        if (rep0 >= position || length > (uint32_t)(end - out)) __builtin_trap();
        const uint8_t *from = out - rep0 - 1;
        uint32_t k = 0;
        if (out + length <= dirty) { /* a leading run of zeros is there: read, not written */
            uint32_t period = rep0 + 1 < length ? rep0 + 1 : length;
            while (k + 8 <= period && *(const unaligned_word *)(from + k) == 0) k += 8;
            while (k < period && from[k] == 0) k++;
            if (k == period) k = length; /* a copy of zeros is all zeros */
            out += k;
        }
        for (; k < length; k++) PUT(from[k]);
    }
    if (out != end) __builtin_trap();
    /* What is left of the stream outside the expanded bytes, and the model, become zeros. */
    uint8_t *rest = in_start < start ? in_start : in_start > end ? in_start : end;
    for (; rest < in_end; rest++) *rest = 0;
    __builtin_memset(m, 0, sizeof *m);
}

/* packed.EXPAND_SCRATCH bytes hold the model. */
_Static_assert(sizeof(struct model) <= 10240, "packed.EXPAND_SCRATCH is 10240");
