// Included by extmod/modtime.c (MICROPY_PY_TIME_INCLUDEFILE): the wall clock of the
// qemu board, in seconds since the port's epoch (2000-01-01), integer like real MCUs.
#include "shared/timeutils/timeutils.h"

mp_uint_t fcqemu_unix_time(void);

static mp_obj_t mp_time_time_get(void) {
    return mp_obj_new_int_from_uint(fcqemu_unix_time() - TIMEUTILS_SECONDS_1970_TO_2000);
}

static mp_obj_t mp_time_localtime_get(void) {
    timeutils_struct_time_t tm;
    timeutils_seconds_since_2000_to_struct_time(fcqemu_unix_time() - TIMEUTILS_SECONDS_1970_TO_2000, &tm);
    mp_obj_t tuple[8] = {
        mp_obj_new_int(tm.tm_year),
        mp_obj_new_int(tm.tm_mon),
        mp_obj_new_int(tm.tm_mday),
        mp_obj_new_int(tm.tm_hour),
        mp_obj_new_int(tm.tm_min),
        mp_obj_new_int(tm.tm_sec),
        mp_obj_new_int(tm.tm_wday),
        mp_obj_new_int(tm.tm_yday),
    };
    return mp_obj_new_tuple(8, tuple);
}
