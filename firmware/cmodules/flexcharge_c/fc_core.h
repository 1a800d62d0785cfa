/* FlexCharge hot paths, portable C99 core: no MicroPython headers, no allocation, no
 * recursion, no global state. The MicroPython binding (modflexcharge_c.c) wraps it; the
 * host builds it as a shared library for the differential tests and links it into the
 * libFuzzer harnesses (host_tests/cmod/). Every function mirrors a pure-Python fallback in
 * firmware/flexcharge/accel.py, byte for byte; the contracts are stated there and here. */
#ifndef FC_CORE_H
#define FC_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 6455 §5.3: XOR buf[0:n] in place with the repeating 4-byte key, starting at key
 * byte `phase` (0..3; taken mod 4), so a payload can be masked in pieces. */
void fc_mask(uint8_t *buf, size_t n, const uint8_t *key, unsigned phase);

/* RFC 6455 §5.2 frame header at buf[0:avail]. */
typedef struct {
    int fin;
    int opcode;
    int masked;
    uint64_t length;
    uint8_t key[4]; /* valid when masked */
    int header_length;
} fc_ws_header;

#define FC_WS_NEED_MORE 0
#define FC_WS_OK 1
/* errors (negative): the ProtocolError reasons of wsframe.parse_header */
#define FC_WS_E_RSV (-1)          /* "reserved bits set" */
#define FC_WS_E_OPCODE (-2)       /* "reserved opcode %d" (h->opcode holds it) */
#define FC_WS_E_CTRL_LEN (-3)     /* "control frame longer than 125 bytes" */
#define FC_WS_E_CTRL_FRAG (-4)    /* "fragmented control frame" */
#define FC_WS_E_NOT_MINIMAL (-5)  /* "length not minimally encoded" */
#define FC_WS_E_LEN_MSB (-6)      /* "64-bit length with the most significant bit set" */
int fc_ws_parse_header(const uint8_t *buf, size_t avail, fc_ws_header *h);
const char *fc_ws_error_text(int err);

/* Header of a frame we send (wsframe.encode): writes at most 14 bytes into out (the key
 * included when key != NULL) and returns its length; 0 for no header. Checks as
 * wsframe._check: returns FC_ENC_E_* (negative) for a frame no peer may receive. */
#define FC_ENC_E_OPCODE (-1)     /* "bad opcode %d" */
#define FC_ENC_E_CTRL_LEN (-2)   /* "control frame payload > 125 bytes" */
#define FC_ENC_E_CTRL_FRAG (-3)  /* "control frames cannot be fragmented" */
int fc_ws_encode_header(uint8_t *out, int opcode, uint64_t n, const uint8_t *key, int fin);

/* RFC 3629 strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF, no
 * truncated sequence. 1 if valid. */
int fc_utf8_valid(const uint8_t *buf, size_t n);

/* RFC 8259 strict JSON syntax check, one pass, no recursion (= comm/jsoncheck.check).
 * stack: caller's scratch of max_depth + 1 bytes. Fills out and returns out->status. */
#define FC_JSON_OK 0
#define FC_JSON_BAD 1
#define FC_JSON_DEEP 2
typedef struct {
    int status;
    long index;          /* DEEP inside the top-level array: its element number; else -1 */
    long id0, id1;       /* element 1 of the top-level array, a string token: [id0, id1) */
    long ty0, ty1;       /* element 0 of the top-level array, a number token; -1 if none */
} fc_json_result;
int fc_json_check(const uint8_t *b, size_t n, int max_depth, uint8_t *stack, fc_json_result *out);

/* RFC 3339 date-time as core/timefmt.scan: 1 and *t (Unix seconds), *ms, *flags when
 * accepted, 0 when not. s: the UTF-8 bytes of the string. */
#define FC_TIME_LOOSE_NO_OFFSET 1
#define FC_TIME_LOOSE_SPACE 2
int fc_time_scan(const uint8_t *s, size_t n, int64_t *t, int *ms, int *flags);
int64_t fc_days_from_civil(int64_t y, int m, int d); /* years 0..9999 */

/* Energy register step, integers only: energy in µJ = rem + power_mW * dt_ms; returns
 * whole mWh (floor) and leaves the rest (0 <= *rem < 3600000) for the next step.
 * Domain (checked by the callers, not here): 0 <= rem < 3600000, 0 <= power_mw, dt_ms
 * <= 2^31 - 1, so nothing overflows. */
#define FC_UJ_PER_MWH 3600000
int64_t fc_energy_step(int64_t *rem, int64_t power_mw, int64_t dt_ms);

/* Modbus RTU CRC16 (poly 0xA001 reflected, init 0xFFFF). */
unsigned fc_crc16(const uint8_t *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
