# FlexCharge C user module (make-based ports: unix, qemu, stm32, nrf, samd, mimxrt, renesas-ra).
# Build with: make USER_C_MODULES=<repo>/firmware/cmodules
FLEXCHARGE_C_MOD_DIR := $(USERMOD_DIR)

# The binding holds the qstrs; the portable core has none, so it skips the qstr scan.
SRC_USERMOD_C += $(FLEXCHARGE_C_MOD_DIR)/modflexcharge_c.c
SRC_USERMOD_LIB_C += $(FLEXCHARGE_C_MOD_DIR)/fc_core.c

CFLAGS_USERMOD += -I$(FLEXCHARGE_C_MOD_DIR)
