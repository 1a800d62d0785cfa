// FlexCharge overlay on the qemu port's configuration (MP_CONFIGFILE): the port as
// shipped has no time, select or asyncio; the firmware needs all three. Nothing in
// MicroPython is patched: the port's header is included, then these settings win.
#include "mpconfigport.h"

// time: ticks and the wall clock come from semihosting (cmod/fcqemu/modfcqemu.c).
#undef MICROPY_PY_TIME
#define MICROPY_PY_TIME (1)
#define MICROPY_PY_TIME_GMTIME_LOCALTIME_MKTIME (1)
#define MICROPY_PY_TIME_TIME_TIME_NS (1)
#define MICROPY_PY_TIME_INCLUDEFILE "modtime_qemu.h"

// select.poll, which asyncio's scheduler waits with (no streams to poll but its own).
#undef MICROPY_PY_SELECT
#define MICROPY_PY_SELECT (1)
#define MICROPY_PY_SELECT_SELECT (0)

#undef MICROPY_PY_ASYNCIO
#define MICROPY_PY_ASYNCIO (1)

// No TRNG here: os.urandom is absent and flexcharge.compat falls back to `random`.
#define MICROPY_PY_RANDOM_SEED_INIT_FUNC (fcqemu_random_seed())
uint32_t fcqemu_random_seed(void);
