// qemu MPS2-AN385 board support for FlexCharge (boards/qemu): the HAL the port lacks.
//
// - mp_hal_ticks_ms/us/cpu, mp_hal_delay_ms/us, mp_hal_time_ns: from semihosting
//   SYS_ELAPSED/SYS_TICKFREQ (qemu counts in ns of its virtual clock, which follows the
//   host's), the wall clock from SYS_TIME (seconds since 1970).
// - fcqemu.disk(): the 16 MB PSRAM at 0x21000000 as a memoryview, the board's "flash"
//   (outside the GC heap, like a real MCU's); qemu's -device loader can preload it.
// - fcqemu.exit(code): ends qemu with that exit status (semihosting SYS_EXIT).
#include <stdint.h>
#include "py/runtime.h"
#include "py/mphal.h"
#include "py/objarray.h"

#define SYS_CLOCK 0x10
#define SYS_TIME 0x11
#define SYS_ELAPSED 0x30
#define SYS_TICKFREQ 0x31

#define DISK_BASE (0x21000000)
#define DISK_SIZE (16 * 1024 * 1024)

static uint32_t semihost(uint32_t num, const void *arg) {
    register uint32_t num_reg __asm__ ("r0") = num;
    register const void *args_reg __asm__ ("r1") = arg;
    __asm__ __volatile__ (
        "bkpt 0xAB\n"
        : "+r" (num_reg)
        : "r" (args_reg)
        : "memory");
    return num_reg;
}

static uint32_t tick_freq;

// 64/32-bit division without libgcc's __aeabi_uldivmod, whose unwind tables the port's
// linker script does not place.
static uint64_t udiv64(uint64_t n, uint32_t d, uint32_t *rem) {
    uint64_t q = 0, r = 0;
    for (int i = 63; i >= 0; i--) {
        r = (r << 1) | ((n >> i) & 1);
        if (r >= d) {
            r -= d;
            q |= (uint64_t)1 << i;
        }
    }
    if (rem) {
        *rem = (uint32_t)r;
    }
    return q;
}

static uint64_t elapsed_ns(void) {
    uint32_t t[2];
    if (tick_freq == 0) {
        tick_freq = semihost(SYS_TICKFREQ, NULL);
        if (tick_freq == 0 || tick_freq == 0xffffffff) {
            tick_freq = 1;  // no SYS_ELAPSED: fall back to SYS_CLOCK below
        }
    }
    if (tick_freq > 1 && semihost(SYS_ELAPSED, t) == 0) {
        uint64_t ticks = ((uint64_t)t[1] << 32) | t[0];
        if (tick_freq == 1000000000) {
            return ticks;
        }
        return udiv64(ticks * 1000000000ULL, tick_freq, NULL);
    }
    return (uint64_t)semihost(SYS_CLOCK, NULL) * 10000000ULL;  // centiseconds
}

mp_uint_t mp_hal_ticks_ms(void) {
    return (mp_uint_t)udiv64(elapsed_ns(), 1000000, NULL);
}

mp_uint_t mp_hal_ticks_us(void) {
    return (mp_uint_t)udiv64(elapsed_ns(), 1000, NULL);
}

mp_uint_t mp_hal_ticks_cpu(void) {
    return (mp_uint_t)elapsed_ns();
}

void mp_hal_delay_us(mp_uint_t us) {
    uint64_t end = elapsed_ns() + (uint64_t)us * 1000ULL;
    while (elapsed_ns() < end) {
    }
}

void mp_hal_delay_ms(mp_uint_t ms) {
    uint64_t end = elapsed_ns() + (uint64_t)ms * 1000000ULL;
    while (elapsed_ns() < end) {
        mp_handle_pending(true);  // keeps Ctrl-C and scheduled callbacks alive
    }
}

mp_uint_t fcqemu_unix_time(void) {
    return semihost(SYS_TIME, NULL);
}

uint64_t mp_hal_time_ns(void) {
    uint32_t sub;
    udiv64(elapsed_ns(), 1000000000, &sub);
    return (uint64_t)fcqemu_unix_time() * 1000000000ULL + sub;
}

uint32_t fcqemu_random_seed(void) {
    return (uint32_t)elapsed_ns() ^ fcqemu_unix_time();
}

static mp_obj_t fcqemu_disk(void) {
    return mp_obj_new_memoryview('B' | MP_OBJ_ARRAY_TYPECODE_FLAG_RW, DISK_SIZE, (void *)DISK_BASE);
}
static MP_DEFINE_CONST_FUN_OBJ_0(fcqemu_disk_obj, fcqemu_disk);

static mp_obj_t fcqemu_exit(mp_obj_t code) {
    // SYS_EXIT_EXTENDED: "application exit" with the status qemu exits with.
    uint32_t block[2] = {0x20026, (uint32_t)mp_obj_get_int(code)};
    semihost(0x20, block);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(fcqemu_exit_obj, fcqemu_exit);

static const mp_rom_map_elem_t fcqemu_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_fcqemu) },
    { MP_ROM_QSTR(MP_QSTR_disk), MP_ROM_PTR(&fcqemu_disk_obj) },
    { MP_ROM_QSTR(MP_QSTR_exit), MP_ROM_PTR(&fcqemu_exit_obj) },
    { MP_ROM_QSTR(MP_QSTR_DISK_SIZE), MP_ROM_INT(DISK_SIZE) },
};
static MP_DEFINE_CONST_DICT(fcqemu_globals, fcqemu_globals_table);

const mp_obj_module_t fcqemu_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&fcqemu_globals,
};

MP_REGISTER_MODULE(MP_QSTR_fcqemu, fcqemu_module);
