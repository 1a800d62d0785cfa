// MicroPython binding of the FlexCharge hot paths (module `flexcharge_c`). The logic is in
// fc_core.c (plain C99, also built on the host); this file only converts objects. Each
// function has the contract of its pure-Python twin in firmware/flexcharge/accel.py, which
// is what the firmware imports (accel picks this module when the build has it).
#include <string.h>

#include "py/runtime.h"
#include "py/obj.h"
#include "py/objstr.h"
#include "py/objexcept.h"
#include "py/smallint.h"

#include "fc_core.h"

// flexcharge_c.ProtocolError: the bytes break RFC 6455 (a ValueError, args[0] the reason).
MP_DEFINE_EXCEPTION(ProtocolError, ValueError)

static mp_obj_t fc_int(int64_t v) {
    if (v >= MP_SMALL_INT_MIN && v <= MP_SMALL_INT_MAX) {
        return MP_OBJ_NEW_SMALL_INT((mp_int_t)v);
    }
    return mp_obj_new_int_from_ll((long long)v);
}

static mp_obj_t fc_uint(uint64_t v) {
    if (v <= (uint64_t)MP_SMALL_INT_MAX) {
        return MP_OBJ_NEW_SMALL_INT((mp_int_t)v);
    }
    return mp_obj_new_int_from_ull((unsigned long long)v);
}

static const uint8_t *fc_key(mp_obj_t key_in) {
    mp_buffer_info_t k;
    mp_get_buffer_raise(key_in, &k, MP_BUFFER_READ);
    if (k.len != 4) {
        mp_raise_ValueError(MP_ERROR_TEXT("mask key must be 4 bytes"));
    }
    return k.buf;
}

// mask(data, key) -> bytes: data XOR the repeating key (RFC 6455 §5.3); wsframe.mask.
static mp_obj_t fc_mask_(mp_obj_t data_in, mp_obj_t key_in) {
    mp_buffer_info_t d;
    mp_get_buffer_raise(data_in, &d, MP_BUFFER_READ);
    const uint8_t *key = fc_key(key_in);
    if (d.len == 0) {
        return mp_const_empty_bytes;
    }
    vstr_t v;
    vstr_init_len(&v, d.len);
    memcpy(v.buf, d.buf, d.len);
    fc_mask((uint8_t *)v.buf, d.len, key, 0);
    return mp_obj_new_bytes_from_vstr(&v);
}
static MP_DEFINE_CONST_FUN_OBJ_2(fc_mask_obj, fc_mask_);

// mask_into(buf, key, phase=0): XOR a writable buffer in place, key byte `phase` first.
static mp_obj_t fc_mask_into(size_t n_args, const mp_obj_t *args) {
    mp_buffer_info_t d;
    mp_get_buffer_raise(args[0], &d, MP_BUFFER_RW);
    const uint8_t *key = fc_key(args[1]);
    unsigned phase = n_args > 2 ? (unsigned)(mp_obj_get_int(args[2]) & 3) : 0;
    fc_mask(d.buf, d.len, key, phase);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(fc_mask_into_obj, 2, 3, fc_mask_into);

// encode(opcode, payload, mask_key=None, fin=True) -> bytes: one whole frame; wsframe.encode.
static mp_obj_t fc_encode(size_t n_args, const mp_obj_t *args) {
    mp_int_t op = mp_obj_get_int(args[0]);
    mp_buffer_info_t p;
    mp_get_buffer_raise(args[1], &p, MP_BUFFER_READ);
    int fin = n_args > 3 ? mp_obj_is_true(args[3]) : 1;
    const uint8_t *key = NULL;
    uint8_t head[14];
    int hl = fc_ws_encode_header(head, (int)op, p.len, (const uint8_t *)"\0\0\0\0", fin);
    if (hl == FC_ENC_E_OPCODE) {
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("bad opcode %d"), (int)op);
    } else if (hl == FC_ENC_E_CTRL_LEN) {
        mp_raise_ValueError(MP_ERROR_TEXT("control frame payload > 125 bytes"));
    } else if (hl == FC_ENC_E_CTRL_FRAG) {
        mp_raise_ValueError(MP_ERROR_TEXT("control frames cannot be fragmented"));
    }
    if (n_args > 2 && args[2] != mp_const_none) {
        key = fc_key(args[2]);
    }
    hl = fc_ws_encode_header(head, (int)op, p.len, key, fin);
    vstr_t v;
    vstr_init_len(&v, hl + p.len);
    memcpy(v.buf, head, hl);
    memcpy(v.buf + hl, p.buf, p.len);
    if (key) {
        fc_mask((uint8_t *)v.buf + hl, p.len, key, 0);
    }
    return mp_obj_new_bytes_from_vstr(&v);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(fc_encode_obj, 2, 4, fc_encode);

// parse_header(buf, offset=0) -> None | (fin, opcode, masked, length, key|None, header_length)
static mp_obj_t fc_parse_header(size_t n_args, const mp_obj_t *args) {
    mp_buffer_info_t b;
    mp_get_buffer_raise(args[0], &b, MP_BUFFER_READ);
    mp_int_t off = n_args > 1 ? mp_obj_get_int(args[1]) : 0;
    if (off < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("negative offset"));
    }
    if ((size_t)off >= b.len) {
        return mp_const_none;
    }
    fc_ws_header h;
    int r = fc_ws_parse_header((const uint8_t *)b.buf + off, b.len - off, &h);
    switch (r) {
        case FC_WS_NEED_MORE:
            return mp_const_none;
        case FC_WS_OK: {
            mp_obj_t t[6] = {
                mp_obj_new_bool(h.fin), MP_OBJ_NEW_SMALL_INT(h.opcode), mp_obj_new_bool(h.masked),
                fc_uint(h.length), h.masked ? mp_obj_new_bytes(h.key, 4) : mp_const_none,
                MP_OBJ_NEW_SMALL_INT(h.header_length),
            };
            return mp_obj_new_tuple(6, t);
        }
        case FC_WS_E_RSV:
            mp_raise_msg(&mp_type_ProtocolError, MP_ERROR_TEXT("reserved bits set"));
        case FC_WS_E_OPCODE:
            mp_raise_msg_varg(&mp_type_ProtocolError, MP_ERROR_TEXT("reserved opcode %d"), h.opcode);
        case FC_WS_E_CTRL_LEN:
            mp_raise_msg(&mp_type_ProtocolError, MP_ERROR_TEXT("control frame longer than 125 bytes"));
        case FC_WS_E_CTRL_FRAG:
            mp_raise_msg(&mp_type_ProtocolError, MP_ERROR_TEXT("fragmented control frame"));
        case FC_WS_E_NOT_MINIMAL:
            mp_raise_msg(&mp_type_ProtocolError, MP_ERROR_TEXT("length not minimally encoded"));
        default:
            mp_raise_msg(&mp_type_ProtocolError, MP_ERROR_TEXT("64-bit length with the most significant bit set"));
    }
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(fc_parse_header_obj, 1, 2, fc_parse_header);

// utf8_valid(data) -> bool (RFC 3629 strict)
static mp_obj_t fc_utf8_valid_(mp_obj_t data_in) {
    mp_buffer_info_t d;
    mp_get_buffer_raise(data_in, &d, MP_BUFFER_READ);
    return mp_obj_new_bool(fc_utf8_valid(d.buf, d.len));
}
static MP_DEFINE_CONST_FUN_OBJ_1(fc_utf8_valid_obj, fc_utf8_valid_);

static mp_obj_t fc_span(long a, long b) {
    if (a < 0) {
        return mp_const_none;
    }
    mp_obj_t t[2] = {MP_OBJ_NEW_SMALL_INT(a), MP_OBJ_NEW_SMALL_INT(b)};
    return mp_obj_new_tuple(2, t);
}

// json_check(b, n=-1, max_depth=32) -> (status, index, id_span, type_span); jsoncheck.check
static mp_obj_t fc_json_check_(size_t n_args, const mp_obj_t *args) {
    mp_buffer_info_t b;
    mp_get_buffer_raise(args[0], &b, MP_BUFFER_READ);
    mp_int_t n = n_args > 1 ? mp_obj_get_int(args[1]) : -1;
    mp_int_t md = n_args > 2 ? mp_obj_get_int(args[2]) : 32;
    if (n < 0 || (size_t)n > b.len) {
        n = b.len;
    }
    if (md < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("negative max_depth"));
    }
    uint8_t local[64];
    uint8_t *stack = md < (mp_int_t)sizeof(local) ? local : m_new(uint8_t, md + 1);
    fc_json_result r;
    fc_json_check(b.buf, n, (int)md, stack, &r);
    if (stack != local) {
        m_del(uint8_t, stack, md + 1);
    }
    mp_obj_t t[4] = {
        MP_OBJ_NEW_SMALL_INT(r.status), MP_OBJ_NEW_SMALL_INT(r.index), fc_span(r.id0, r.id1), fc_span(r.ty0, r.ty1),
    };
    return mp_obj_new_tuple(4, t);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(fc_json_check_obj, 1, 3, fc_json_check_);

// time_scan(s) -> (unix_seconds, ms, loose_flags) | None; timefmt.scan
static mp_obj_t fc_time_scan_(mp_obj_t s_in) {
    if (!mp_obj_is_str(s_in)) {
        return mp_const_none;
    }
    size_t n;
    const char *s = mp_obj_str_get_data(s_in, &n);
    int64_t t;
    int ms, flags;
    if (!fc_time_scan((const uint8_t *)s, n, &t, &ms, &flags)) {
        return mp_const_none;
    }
    mp_obj_t r[3] = {fc_int(t), MP_OBJ_NEW_SMALL_INT(ms), MP_OBJ_NEW_SMALL_INT(flags)};
    return mp_obj_new_tuple(3, r);
}
static MP_DEFINE_CONST_FUN_OBJ_1(fc_time_scan_obj, fc_time_scan_);

// An int argument in 0 .. 2**31 - 1, else -1. Not mp_obj_get_int: on 32-bit ports it
// raises OverflowError for a big int where the Python fallback says ValueError.
static int64_t fc_arg_u31(mp_obj_t o) {
    if (mp_obj_is_small_int(o)) {
        mp_int_t v = MP_OBJ_SMALL_INT_VALUE(o);
        return (v < 0 || (int64_t)v > 0x7FFFFFFF) ? -1 : (int64_t)v;
    }
    if (o == mp_const_false || o == mp_const_true) {
        return o == mp_const_true;
    }
    if (!mp_obj_is_int(o)) {
        mp_raise_TypeError(MP_ERROR_TEXT("energy_step takes ints"));
    }
    // a big int: within range only on ports whose small ints stop below 2**31
    if (mp_obj_is_true(mp_binary_op(MP_BINARY_OP_LESS, o, MP_OBJ_NEW_SMALL_INT(0)))
        || mp_obj_is_true(mp_binary_op(MP_BINARY_OP_MORE, o, mp_obj_new_int_from_ll(0x7FFFFFFFLL)))) {
        return -1;
    }
    return (int64_t)mp_obj_int_get_truncated(o);
}

// energy_step(rem_uj, power_mw, dt_ms) -> (whole_mwh, rem_uj)
static mp_obj_t fc_energy_step_(mp_obj_t rem_in, mp_obj_t p_in, mp_obj_t dt_in) {
    int64_t rem = fc_arg_u31(rem_in);
    int64_t p = fc_arg_u31(p_in);
    int64_t dt = fc_arg_u31(dt_in);
    if (rem < 0 || rem >= FC_UJ_PER_MWH || p < 0 || dt < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("energy_step argument out of range"));
    }
    int64_t q = fc_energy_step(&rem, p, dt);
    mp_obj_t t[2] = {fc_int(q), MP_OBJ_NEW_SMALL_INT((mp_int_t)rem)};
    return mp_obj_new_tuple(2, t);
}
static MP_DEFINE_CONST_FUN_OBJ_3(fc_energy_step_obj, fc_energy_step_);

// crc16(data) -> int (Modbus RTU)
static mp_obj_t fc_crc16_(mp_obj_t data_in) {
    mp_buffer_info_t d;
    mp_get_buffer_raise(data_in, &d, MP_BUFFER_READ);
    return MP_OBJ_NEW_SMALL_INT(fc_crc16(d.buf, d.len));
}
static MP_DEFINE_CONST_FUN_OBJ_1(fc_crc16_obj, fc_crc16_);

// schema_ok(spec, payload) -> bool: the fast path of core/schema.validate over its compact
// tables. True only when validate() would return None WITHOUT touching anything: no
// integral float to normalise, no loose date-time to note, no customData (its spec is the
// string "c"). False means "not sure": the caller runs the Python validator, which gives the
// verdict and the error details. So the answer never differs from Python's, only its cost.
static bool fc_is_str(mp_obj_t o) {
    return mp_obj_is_str(o);
}

static bool fc_num_in(mp_obj_t spec, mp_obj_t v) {
    size_t n;
    mp_obj_t *it;
    mp_obj_tuple_get(spec, &n, &it);
    if (n > 1 && it[1] != mp_const_none && mp_obj_is_true(mp_binary_op(MP_BINARY_OP_LESS, v, it[1]))) {
        return false;
    }
    if (n > 2 && it[2] != mp_const_none && mp_obj_is_true(mp_binary_op(MP_BINARY_OP_MORE, v, it[2]))) {
        return false;
    }
    return true;
}

static bool fc_schema_ok_(mp_obj_t spec, mp_obj_t v, int depth) {
    if (depth > 32 || !mp_obj_is_type(spec, &mp_type_tuple)) {
        return false; // "c" (customData) and anything unexpected: Python decides
    }
    size_t n;
    mp_obj_t *it;
    mp_obj_tuple_get(spec, &n, &it);
    if (n == 0 || !fc_is_str(it[0])) {
        return false;
    }
    size_t kl;
    const char *k = mp_obj_str_get_data(it[0], &kl);
    if (kl != 1) {
        return false;
    }
    switch (k[0]) {
        case 'o': {
            if (n != 4 || !mp_obj_is_type(v, &mp_type_dict) || !mp_obj_is_type(it[1], &mp_type_tuple)
                || !mp_obj_is_type(it[2], &mp_type_tuple)) {
                return false;
            }
            mp_map_t *map = mp_obj_dict_get_map(v);
            size_t nreq, nprops;
            mp_obj_t *req, *props;
            mp_obj_tuple_get(it[1], &nreq, &req);
            mp_obj_tuple_get(it[2], &nprops, &props);
            for (size_t i = 0; i < nreq; i++) {
                if (mp_map_lookup(map, req[i], MP_MAP_LOOKUP) == NULL) {
                    return false;
                }
            }
            size_t found = 0;
            for (size_t i = 0; i < nprops; i++) {
                size_t pn;
                mp_obj_t *p;
                if (!mp_obj_is_type(props[i], &mp_type_tuple)) {
                    return false;
                }
                mp_obj_tuple_get(props[i], &pn, &p);
                if (pn != 2) {
                    return false;
                }
                mp_map_elem_t *e = mp_map_lookup(map, p[0], MP_MAP_LOOKUP);
                if (e != NULL) {
                    found++;
                    if (!fc_schema_ok_(p[1], e->value, depth + 1)) {
                        return false;
                    }
                }
            }
            // additionalProperties false: every key must be a declared one. Keys are
            // strings (json.loads) and props are distinct, so counting is enough -- but a
            // non-str key never matches a declared name, so it is counted as unknown.
            if (it[3] == mp_const_false && found != map->used) {
                return false;
            }
            return true;
        }
        case 'a': {
            if (n != 4 || !mp_obj_is_type(v, &mp_type_list)) {
                return false;
            }
            size_t len;
            mp_obj_t *items;
            mp_obj_list_get(v, &len, &items);
            if (it[2] != mp_const_none && (mp_int_t)len < mp_obj_get_int(it[2])) {
                return false;
            }
            if (it[3] != mp_const_none && (mp_int_t)len > mp_obj_get_int(it[3])) {
                return false;
            }
            for (size_t i = 0; i < len; i++) {
                if (!fc_schema_ok_(it[1], items[i], depth + 1)) {
                    return false;
                }
            }
            return true;
        }
        case 's':
            if (!fc_is_str(v)) {
                return false;
            }
            if (n > 1) {
                // maxLength counts characters, as len() does on this build
                mp_int_t len = MP_OBJ_SMALL_INT_VALUE(mp_obj_len(v));
                if (len > mp_obj_get_int(it[1])) {
                    return false;
                }
            }
            return true;
        case 'e': {
            if (!fc_is_str(v) || n != 2 || !mp_obj_is_type(it[1], &mp_type_tuple)) {
                return false;
            }
            size_t ne;
            mp_obj_t *vals;
            mp_obj_tuple_get(it[1], &ne, &vals);
            for (size_t i = 0; i < ne; i++) {
                if (mp_obj_equal(vals[i], v)) {
                    return true;
                }
            }
            return false;
        }
        case 'd': {
            if (!fc_is_str(v)) {
                return false;
            }
            size_t sl;
            const char *s = mp_obj_str_get_data(v, &sl);
            int64_t t;
            int ms, flags;
            // a loose form is noted by the Python validator (a warning): leave it to it
            return fc_time_scan((const uint8_t *)s, sl, &t, &ms, &flags) && flags == 0;
        }
        case 'i':
            // an integral float is valid but normalised to int by Python: not ours
            if (!mp_obj_is_int(v)) {
                return false;
            }
            return fc_num_in(spec, v);
        case 'n':
            if (!mp_obj_is_int(v) && !mp_obj_is_float(v)) {
                return false;
            }
            return fc_num_in(spec, v);
        case 'b':
            return v == mp_const_true || v == mp_const_false;
        case '*':
            return true;
        default:
            return false;
    }
}

static mp_obj_t fc_schema_ok(mp_obj_t spec, mp_obj_t payload) {
    return mp_obj_new_bool(mp_obj_is_type(payload, &mp_type_dict) && fc_schema_ok_(spec, payload, 0));
}
static MP_DEFINE_CONST_FUN_OBJ_2(fc_schema_ok_obj, fc_schema_ok);

static const mp_rom_map_elem_t fc_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_flexcharge_c) },
    { MP_ROM_QSTR(MP_QSTR_ProtocolError), MP_ROM_PTR(&mp_type_ProtocolError) },
    { MP_ROM_QSTR(MP_QSTR_mask), MP_ROM_PTR(&fc_mask_obj) },
    { MP_ROM_QSTR(MP_QSTR_mask_into), MP_ROM_PTR(&fc_mask_into_obj) },
    { MP_ROM_QSTR(MP_QSTR_encode), MP_ROM_PTR(&fc_encode_obj) },
    { MP_ROM_QSTR(MP_QSTR_parse_header), MP_ROM_PTR(&fc_parse_header_obj) },
    { MP_ROM_QSTR(MP_QSTR_utf8_valid), MP_ROM_PTR(&fc_utf8_valid_obj) },
    { MP_ROM_QSTR(MP_QSTR_json_check), MP_ROM_PTR(&fc_json_check_obj) },
    { MP_ROM_QSTR(MP_QSTR_time_scan), MP_ROM_PTR(&fc_time_scan_obj) },
    { MP_ROM_QSTR(MP_QSTR_energy_step), MP_ROM_PTR(&fc_energy_step_obj) },
    { MP_ROM_QSTR(MP_QSTR_crc16), MP_ROM_PTR(&fc_crc16_obj) },
    { MP_ROM_QSTR(MP_QSTR_schema_ok), MP_ROM_PTR(&fc_schema_ok_obj) },
};
static MP_DEFINE_CONST_DICT(fc_globals, fc_globals_table);

const mp_obj_module_t flexcharge_c_user_cmodule = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&fc_globals,
};

MP_REGISTER_MODULE(MP_QSTR_flexcharge_c, flexcharge_c_user_cmodule);
