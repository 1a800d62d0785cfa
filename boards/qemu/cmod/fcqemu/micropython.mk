# The qemu board's C module: ticks, clock and the RAM disk over what qemu offers.
FCQEMU_DIR := $(USERMOD_DIR)
SRC_USERMOD_C += $(FCQEMU_DIR)/modfcqemu.c
# time.gmtime/mktime (the qemu port does not build shared/timeutils itself).
SRC_USERMOD_LIB_C += $(TOP)/shared/timeutils/timeutils.c
