/* libFuzzer harnesses for the portable C core (firmware/cmodules/flexcharge_c/fc_core.c),
 * one entry point per build: cc -DFUZZ_<NAME> -fsanitize=fuzzer,address,undefined.
 * Besides crashes and sanitizer findings, each harness checks a property of its function
 * and aborts when it fails (libFuzzer then reports the input). mk/cmod.mk runs them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_core.h"

#define CHECK(c) \
    do { \
        if (!(c)) { \
            fprintf(stderr, "property failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
            abort(); \
        } \
    } while (0)

#if defined(FUZZ_UTF8)
/* Reference: decode code points one by one, by the definition of RFC 3629 §3/§4. */
static int ref_utf8(const uint8_t *d, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint32_t c = d[i], cp, min;
        size_t k, j;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (i + k >= n) {
            return 0;
        }
        for (j = 1; j <= k; j++) {
            if ((d[i + j] & 0xC0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (d[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return 0;
        }
        i += k + 1;
    }
    return 1;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
#if defined(FUZZ_MASK)
    /* masking twice is the identity; a split at any point with the right phase is the
     * same as one pass; each byte is data ^ key[(i + phase) % 4] */
    if (size < 5) {
        return 0;
    }
    {
        uint8_t key[4];
        unsigned phase = data[0];
        size_t n = size - 5, cut = n ? data[1] % (n + 1) : 0, i;
        uint8_t *a = malloc(n + 1), *b = malloc(n + 1);
        memcpy(key, data + 1, 4);
        memcpy(a, data + 5, n);
        memcpy(b, data + 5, n);
        fc_mask(a, n, key, phase);
        for (i = 0; i < n; i++) {
            CHECK(a[i] == (data[5 + i] ^ key[(i + phase) & 3]));
        }
        fc_mask(b, cut, key, phase);
        fc_mask(b + cut, n - cut, key, phase + (unsigned)cut);
        CHECK(memcmp(a, b, n) == 0);
        fc_mask(a, n, key, phase);
        CHECK(memcmp(a, data + 5, n) == 0);
        free(a);
        free(b);
    }
#elif defined(FUZZ_WS_HEADER)
    /* what parses re-encodes to the very same header bytes (only minimal encodings parse);
     * and a header that needs more bytes never turns into an error with fewer */
    {
        fc_ws_header h;
        int r = fc_ws_parse_header(data, size, &h);
        if (r == FC_WS_OK) {
            uint8_t out[14];
            int hl;
            CHECK(h.header_length >= 2 && (size_t)h.header_length <= size && h.header_length <= 14);
            hl = fc_ws_encode_header(out, h.opcode, h.length, h.masked ? h.key : NULL, h.fin);
            CHECK(hl == h.header_length);
            CHECK(memcmp(out, data, (size_t)hl) == 0);
        } else if (r == FC_WS_NEED_MORE) {
            CHECK(size < 14);
        } else {
            CHECK(r >= FC_WS_E_LEN_MSB && r <= FC_WS_E_RSV);
        }
        if (size > 0) {
            fc_ws_header h2;
            int r2 = fc_ws_parse_header(data, size - 1, &h2);
            CHECK(r2 == r || r2 == FC_WS_NEED_MORE);
        }
    }
#elif defined(FUZZ_WS_ENCODE)
    /* every frame we may send parses back to what we asked for */
    if (size >= 14) {
        uint8_t out[14];
        int op = data[0] & 0x0F, fin = data[0] >> 7, masked = data[1] & 1;
        uint64_t n = 0;
        int i, hl;
        for (i = 0; i < 8; i++) {
            n = (n << 8) | data[2 + i];
        }
        n >>= data[1] >> 2; /* all sizes, small ones often */
        n &= 0x7FFFFFFFFFFFFFFFull; /* RFC 6455 §5.2: the MSB is 0 (no buffer comes near) */
        hl = fc_ws_encode_header(out, op, n, masked ? data + 10 : NULL, fin);
        if (hl > 0) {
            fc_ws_header h;
            CHECK(fc_ws_parse_header(out, (size_t)hl, &h) == FC_WS_OK);
            CHECK(h.header_length == hl && h.opcode == op && h.fin == fin && h.masked == masked && h.length == n);
            CHECK(!masked || memcmp(h.key, data + 10, 4) == 0);
        } else {
            CHECK(hl < 0);
        }
    }
#elif defined(FUZZ_UTF8)
    CHECK(fc_utf8_valid(data, size) == ref_utf8(data, size));
#elif defined(FUZZ_JSON)
    /* spans inside the input; a deeper limit never turns OK into anything else; a
     * shallower limit turns OK into OK or DEEP, never BAD */
    {
        uint8_t st32[33], st4[5], st200[201];
        fc_json_result r, r4, r200;
        fc_json_check(data, size, 32, st32, &r);
        fc_json_check(data, size, 4, st4, &r4);
        fc_json_check(data, size, 200, st200, &r200);
        CHECK(r.status >= 0 && r.status <= 2);
        if (r.id0 >= 0) {
            CHECK(r.id0 < r.id1 && (size_t)r.id1 <= size && data[r.id0] == '"' && data[r.id1 - 1] == '"');
        }
        if (r.ty0 >= 0) {
            CHECK(r.ty0 < r.ty1 && (size_t)r.ty1 <= size);
        }
        if (r.status == FC_JSON_OK) {
            CHECK(r200.status == FC_JSON_OK && (r4.status == FC_JSON_OK || r4.status == FC_JSON_DEEP));
        }
        if (r4.status == FC_JSON_OK) {
            CHECK(r.status == FC_JSON_OK);
        }
        if (r.status == FC_JSON_DEEP) {
            CHECK(r200.status != FC_JSON_DEEP || size > 200);
        }
    }
#elif defined(FUZZ_TIME)
    /* accepted values are in range, and the canonical form of what was read reads back
     * to the same instant */
    {
        int64_t t;
        int ms, flags;
        if (fc_time_scan(data, size, &t, &ms, &flags)) {
            char buf[40];
            int64_t t2, days, sod;
            int ms2, f2, y, m, d;
            CHECK(ms >= 0 && ms <= 999 && flags >= 0 && flags <= 3);
            CHECK(t >= fc_days_from_civil(0, 1, 1) * 86400 - 86400 && t <= fc_days_from_civil(9999, 12, 31) * 86400 + 2 * 86400);
            /* civil from days (Howard Hinnant), to print the instant back */
            days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
            sod = t - days * 86400;
            {
                int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
                int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
                int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
                d = (int)(doy - (153 * mp + 2) / 5 + 1);
                m = (int)(mp < 10 ? mp + 3 : mp - 9);
                y = (int)(yoe + era * 400 + (m <= 2));
            }
            if (y >= 0 && y <= 9999) {
                snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, (int)(sod / 3600),
                         (int)(sod / 60 % 60), (int)(sod % 60), ms);
                CHECK(fc_time_scan((const uint8_t *)buf, strlen(buf), &t2, &ms2, &f2));
                CHECK(t2 == t && ms2 == ms && f2 == 0);
            }
        }
    }
#elif defined(FUZZ_ENERGY)
    /* the register plus the remainder always equals the exact integral */
    if (size >= 12) {
        int64_t rem = 0, total_q = 0;
        __int128 exact = 0;
        size_t i;
        for (i = 0; i + 12 <= size; i += 12) {
            uint32_t p, dt, r0;
            memcpy(&p, data + i, 4);
            memcpy(&dt, data + i + 4, 4);
            memcpy(&r0, data + i + 8, 4);
            p &= 0x7FFFFFFF;
            dt &= 0x7FFFFFFF;
            if (i == 0) {
                rem = r0 % FC_UJ_PER_MWH;
                exact = rem;
            }
            total_q += fc_energy_step(&rem, p, dt);
            exact += (__int128)p * dt;
            CHECK(rem >= 0 && rem < FC_UJ_PER_MWH);
            CHECK((__int128)total_q * FC_UJ_PER_MWH + rem == exact);
        }
    }
#elif defined(FUZZ_CRC16)
    /* a frame with its CRC appended (low byte first) checks to 0 */
    {
        uint8_t *b = malloc(size + 2);
        unsigned c = fc_crc16(data, size);
        CHECK(c <= 0xFFFF);
        memcpy(b, data, size);
        b[size] = (uint8_t)c;
        b[size + 1] = (uint8_t)(c >> 8);
        CHECK(fc_crc16(b, size + 2) == 0);
        free(b);
    }
#else
#error "define one FUZZ_<NAME>"
#endif
    return 0;
}
