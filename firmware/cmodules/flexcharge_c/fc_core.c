/* FlexCharge hot paths, portable C99 core (see fc_core.h). */
#include "fc_core.h"

#include <string.h>

/* ---------------------------------------------------------------- masking */

void fc_mask(uint8_t *buf, size_t n, const uint8_t *key, unsigned phase) {
    uint8_t k[4];
    size_t i = 0;
    phase &= 3;
    k[0] = key[phase & 3];
    k[1] = key[(phase + 1) & 3];
    k[2] = key[(phase + 2) & 3];
    k[3] = key[(phase + 3) & 3];
    if (n >= 8) {
        /* A word at a time: the rotated key is the same in any byte order when loaded
         * and stored through memcpy (no alignment assumption: Cortex-M0 has none). */
        uint32_t kw;
        memcpy(&kw, k, 4);
        for (; i + 4 <= n; i += 4) {
            uint32_t w;
            memcpy(&w, buf + i, 4);
            w ^= kw;
            memcpy(buf + i, &w, 4);
        }
    }
    for (; i < n; i++) {
        buf[i] ^= k[i & 3];
    }
}

/* ---------------------------------------------------------------- frame header */

int fc_ws_parse_header(const uint8_t *buf, size_t avail, fc_ws_header *h) {
    uint8_t b0, b1;
    uint64_t n;
    int hl = 2;
    if (avail < 2) {
        return FC_WS_NEED_MORE;
    }
    b0 = buf[0];
    b1 = buf[1];
    h->fin = (b0 & 0x80) != 0;
    h->opcode = b0 & 0x0F;
    h->masked = (b1 & 0x80) != 0;
    n = b1 & 0x7F;
    if (b0 & 0x70) {
        return FC_WS_E_RSV; /* §5.2: no extension negotiated */
    }
    if (h->opcode & 0x8) {
        if (h->opcode > 0xA) {
            return FC_WS_E_OPCODE;
        }
        if (n > 125) {
            return FC_WS_E_CTRL_LEN; /* §5.5 */
        }
        if (!h->fin) {
            return FC_WS_E_CTRL_FRAG;
        }
    } else if (h->opcode > 0x2) {
        return FC_WS_E_OPCODE;
    }
    if (n == 126) {
        hl = 4;
        if (avail < 4) {
            return FC_WS_NEED_MORE;
        }
        n = ((uint64_t)buf[2] << 8) | buf[3];
        if (n < 126) {
            return FC_WS_E_NOT_MINIMAL;
        }
    } else if (n == 127) {
        int i;
        hl = 10;
        if (avail < 10) {
            return FC_WS_NEED_MORE;
        }
        if (buf[2] & 0x80) {
            return FC_WS_E_LEN_MSB;
        }
        n = 0;
        for (i = 2; i < 10; i++) {
            n = (n << 8) | buf[i];
        }
        if (n < 65536) {
            return FC_WS_E_NOT_MINIMAL;
        }
    }
    if (h->masked) {
        if (avail < (size_t)hl + 4) {
            return FC_WS_NEED_MORE;
        }
        memcpy(h->key, buf + hl, 4);
        hl += 4;
    }
    h->length = n;
    h->header_length = hl;
    return FC_WS_OK;
}

const char *fc_ws_error_text(int err) {
    switch (err) {
        case FC_WS_E_RSV:
            return "reserved bits set";
        case FC_WS_E_OPCODE:
            return "reserved opcode %d";
        case FC_WS_E_CTRL_LEN:
            return "control frame longer than 125 bytes";
        case FC_WS_E_CTRL_FRAG:
            return "fragmented control frame";
        case FC_WS_E_NOT_MINIMAL:
            return "length not minimally encoded";
        case FC_WS_E_LEN_MSB:
            return "64-bit length with the most significant bit set";
        default:
            return "protocol error";
    }
}

int fc_ws_encode_header(uint8_t *out, int opcode, uint64_t n, const uint8_t *key, int fin) {
    int hl;
    uint8_t m = key ? 0x80 : 0;
    if (opcode & 0x8) {
        if (opcode != 0x8 && opcode != 0x9 && opcode != 0xA) {
            return FC_ENC_E_OPCODE;
        }
        if (n > 125) {
            return FC_ENC_E_CTRL_LEN;
        }
        if (!fin) {
            return FC_ENC_E_CTRL_FRAG;
        }
    } else if (opcode < 0 || opcode > 0x2) {
        return FC_ENC_E_OPCODE;
    }
    out[0] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    if (n < 126) {
        out[1] = (uint8_t)(m | n);
        hl = 2;
    } else if (n < 65536) {
        out[1] = (uint8_t)(m | 126);
        out[2] = (uint8_t)(n >> 8);
        out[3] = (uint8_t)n;
        hl = 4;
    } else {
        int i;
        out[1] = (uint8_t)(m | 127);
        for (i = 0; i < 8; i++) {
            out[2 + i] = (uint8_t)(n >> (56 - 8 * i));
        }
        hl = 10;
    }
    if (key) {
        memcpy(out + hl, key, 4);
        hl += 4;
    }
    return hl;
}

/* ---------------------------------------------------------------- UTF-8 */

int fc_utf8_valid(const uint8_t *d, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = d[i];
        unsigned lo = 0x80, hi = 0xBF;
        size_t k, j;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            if (c == 0xE0) {
                lo = 0xA0; /* overlong */
            } else if (c == 0xED) {
                hi = 0x9F; /* surrogates */
            }
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            if (c == 0xF0) {
                lo = 0x90; /* overlong */
            } else if (c == 0xF4) {
                hi = 0x8F; /* > U+10FFFF */
            }
        } else {
            return 0; /* continuation byte, C0/C1, F5..FF */
        }
        if (n - i <= k) {
            return 0; /* truncated */
        }
        if (d[i + 1] < lo || d[i + 1] > hi) {
            return 0;
        }
        for (j = 2; j <= k; j++) {
            if ((d[i + j] & 0xC0) != 0x80) {
                return 0;
            }
        }
        i += k + 1;
    }
    return 1;
}

/* ---------------------------------------------------------------- JSON */

#define J_ARR 1
#define J_OBJ 2

static size_t j_ws(const uint8_t *b, size_t i, size_t n) {
    while (i < n && (b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09)) {
        i++;
    }
    return i;
}

static int j_hex(uint8_t c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* i: just after the opening quote. Index just after the closing quote, or 0 (never a
 * valid answer: the quote itself sits at >= 0). */
static size_t j_string(const uint8_t *b, size_t i, size_t n) {
    while (i < n) {
        uint8_t c = b[i];
        if (c == '"') {
            return i + 1;
        }
        if (c < 0x20) {
            return 0; /* raw control character (RFC 8259 §7) */
        }
        if (c == '\\') {
            if (i + 1 >= n) {
                return 0;
            }
            c = b[i + 1];
            if (c == 'u') {
                if (n - i < 6 || !j_hex(b[i + 2]) || !j_hex(b[i + 3]) || !j_hex(b[i + 4]) || !j_hex(b[i + 5])) {
                    return 0;
                }
                i += 6;
            } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't') {
                i += 2;
            } else {
                return 0;
            }
            continue;
        }
        i++;
    }
    return 0;
}

static size_t j_digits(const uint8_t *b, size_t i, size_t n) {
    while (i < n && b[i] >= '0' && b[i] <= '9') {
        i++;
    }
    return i;
}

/* Index after the number starting at i, or 0 (RFC 8259 §6: no leading zeros, no '+'). */
static size_t j_number(const uint8_t *b, size_t i, size_t n) {
    size_t j;
    if (b[i] == '-') {
        i++;
        if (i >= n) {
            return 0;
        }
    }
    if (b[i] == '0') {
        i++;
    } else if (b[i] >= '1' && b[i] <= '9') {
        i = j_digits(b, i + 1, n);
    } else {
        return 0;
    }
    if (i < n && b[i] == '.') {
        j = j_digits(b, i + 1, n);
        if (j == i + 1) {
            return 0;
        }
        i = j;
    }
    if (i < n && (b[i] | 0x20) == 'e') {
        i++;
        if (i < n && (b[i] == '+' || b[i] == '-')) {
            i++;
        }
        j = j_digits(b, i, n);
        if (j == i) {
            return 0;
        }
        i = j;
    }
    if (i < n && b[i] >= '0' && b[i] <= '9') {
        return 0; /* 01 */
    }
    return i;
}

static size_t j_literal(const uint8_t *b, size_t i, size_t n) {
    const char *w;
    size_t k;
    switch (b[i]) {
        case 't':
            w = "true";
            break;
        case 'f':
            w = "false";
            break;
        case 'n':
            w = "null";
            break;
        default:
            return 0;
    }
    k = strlen(w);
    if (n - i < k || memcmp(b + i, w, k) != 0) {
        return 0;
    }
    return i + k;
}

#define J_RET(st) \
    do { \
        out->status = (st); \
        return (st); \
    } while (0)

int fc_json_check(const uint8_t *b, size_t n, int max_depth, uint8_t *stack, fc_json_result *out) {
    int d = 0;
    long top = 0;          /* element number in the top-level array */
    int want_key = 0;      /* next token is an object key (or '}' right after '{') */
    int after = 0;         /* a value just ended: ',' or a closer comes next */
    int opened = 0;        /* a container just opened: its closer may come at once */
    size_t i, j;
    out->index = -1;
    out->id0 = out->id1 = -1;
    out->ty0 = out->ty1 = -1;
    stack[0] = 0;
    i = j_ws(b, 0, n);
    for (;;) {
        uint8_t c;
        if (i >= n) {
            J_RET(FC_JSON_BAD);
        }
        c = b[i];
        if (after) {
            if (c == ',') {
                if (stack[d] == J_OBJ) {
                    want_key = 1;
                } else if (d == 1) {
                    top++;
                }
                after = 0;
                opened = 0;
                i = j_ws(b, i + 1, n);
                continue;
            }
            if ((c == ']' && stack[d] == J_ARR) || (c == '}' && stack[d] == J_OBJ)) {
                d--;
                i = j_ws(b, i + 1, n);
                if (d == 0) {
                    J_RET(i == n ? FC_JSON_OK : FC_JSON_BAD);
                }
                continue;
            }
            J_RET(FC_JSON_BAD);
        }
        if (want_key) {
            if (c == '}' && opened) { /* {} */
                want_key = 0;
                after = 1;
                continue;
            }
            if (c != '"') {
                J_RET(FC_JSON_BAD);
            }
            j = j_string(b, i + 1, n);
            if (j == 0) {
                J_RET(FC_JSON_BAD);
            }
            j = j_ws(b, j, n);
            if (j >= n || b[j] != ':') {
                J_RET(FC_JSON_BAD);
            }
            i = j_ws(b, j + 1, n);
            want_key = 0;
            opened = 0;
            continue;
        }
        /* a value */
        if (c == '"') {
            j = j_string(b, i + 1, n);
            if (j == 0) {
                J_RET(FC_JSON_BAD);
            }
            if (d == 1 && top == 1 && stack[1] == J_ARR) {
                out->id0 = (long)i;
                out->id1 = (long)j;
            }
        } else if (c == '[' || c == '{') {
            if (d >= max_depth) {
                out->index = (d >= 1 && stack[1] == J_ARR) ? top : -1;
                J_RET(FC_JSON_DEEP);
            }
            d++;
            stack[d] = c == '[' ? J_ARR : J_OBJ;
            opened = 1;
            want_key = c == '{';
            i = j_ws(b, i + 1, n);
            continue;
        } else if (c == ']' && opened) { /* [] */
            after = 1;
            continue;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            j = j_number(b, i, n);
            if (j == 0) {
                J_RET(FC_JSON_BAD);
            }
            if (d == 1 && top == 0 && stack[1] == J_ARR) {
                out->ty0 = (long)i;
                out->ty1 = (long)j;
            }
        } else {
            j = j_literal(b, i, n);
            if (j == 0) {
                J_RET(FC_JSON_BAD);
            }
        }
        opened = 0;
        i = j_ws(b, j, n);
        if (d == 0) {
            J_RET(i == n ? FC_JSON_OK : FC_JSON_BAD);
        }
        after = 1;
    }
}

/* ---------------------------------------------------------------- RFC 3339 */

static int t_digits(const uint8_t *s, size_t i, int k) {
    int x = 0;
    int j;
    for (j = 0; j < k; j++) {
        uint8_t c = s[i + j];
        if (c < '0' || c > '9') {
            return -1;
        }
        x = x * 10 + (c - '0');
    }
    return x;
}

static int64_t floordiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) {
        q--;
    }
    return q;
}

/* 32-bit arithmetic for years 0..9999 (days within +-3.7e6): no 64-bit division helper on
 * 32-bit MCUs; the caller widens before scaling to seconds. */
static int32_t floordiv32(int32_t a, int32_t b) {
    int32_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) {
        q--;
    }
    return q;
}

int64_t fc_days_from_civil(int64_t y64, int m, int d) {
    int32_t y = (int32_t)y64, era, yoe, doy, doe;
    y -= m <= 2;
    era = floordiv32(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int64_t)era * 146097 + doe - 719468;
}

static const uint8_t t_mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

int fc_time_scan(const uint8_t *s, size_t n, int64_t *t, int *ms_out, int *flags_out) {
    int flags = 0, y, mo, d, h, mi, sec, md, ms = 0;
    int64_t off = 0;
    size_t i;
    uint8_t c;
    if (n < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':') {
        return 0;
    }
    c = s[10];
    if (c == ' ') {
        flags |= FC_TIME_LOOSE_SPACE;
    } else if (c != 'T' && c != 't') {
        return 0;
    }
    y = t_digits(s, 0, 4);
    mo = t_digits(s, 5, 2);
    d = t_digits(s, 8, 2);
    h = t_digits(s, 11, 2);
    mi = t_digits(s, 14, 2);
    sec = t_digits(s, 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60) {
        return 0;
    }
    md = t_mdays[mo - 1];
    if (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) {
        md = 29;
    }
    if (d > md) {
        return 0;
    }
    i = 19;
    if (i < n && s[i] == '.') {
        size_t j = ++i, k;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (i - j < 3) {
                ms = ms * 10 + (s[i] - '0');
            }
            i++;
        }
        if (i == j) {
            return 0;
        }
        for (k = i - j; k < 3; k++) {
            ms *= 10;
        }
    }
    if (i == n) {
        flags |= FC_TIME_LOOSE_NO_OFFSET;
    } else {
        c = s[i];
        if (c == 'Z' || c == 'z') {
            if (i + 1 != n) {
                return 0;
            }
        } else if ((c == '+' || c == '-') && i + 6 == n && s[i + 3] == ':') {
            int oh = t_digits(s, i + 1, 2);
            int om = t_digits(s, i + 4, 2);
            if (oh < 0 || oh > 23 || om < 0 || om > 59) {
                return 0;
            }
            off = oh * 3600 + om * 60;
            if (c == '-') {
                off = -off;
            }
        } else {
            return 0;
        }
    }
    if (sec == 60) {
        sec = 59; /* a leap second is read as the second before it */
    }
    *t = fc_days_from_civil(y, mo, d) * 86400 + (int64_t)(h * 3600 + mi * 60 + sec) - off;
    *ms_out = ms;
    *flags_out = flags;
    return 1;
}

/* ---------------------------------------------------------------- metering */

int64_t fc_energy_step(int64_t *rem, int64_t power_mw, int64_t dt_ms) {
    int64_t e = *rem + power_mw * dt_ms; /* µJ (mW x ms) */
    int64_t q = floordiv(e, FC_UJ_PER_MWH);
    *rem = e - q * FC_UJ_PER_MWH;
    return q;
}

/* ---------------------------------------------------------------- Modbus */

unsigned fc_crc16(const uint8_t *buf, size_t n) {
    unsigned crc = 0xFFFF;
    size_t i;
    for (i = 0; i < n; i++) {
        int k;
        crc ^= buf[i];
        for (k = 0; k < 8; k++) {
            crc = (crc & 1) ? (crc >> 1) ^ 0xA001 : crc >> 1;
        }
    }
    return crc;
}
