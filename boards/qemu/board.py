# qemu MPS2-AN385 (Cortex-M3) board: stands in for the Cortex-M families in tests.
#
# What qemu offers and how FlexCharge uses it (the rest is in README.md):
# - UART0: the REPL and stdout (the JSON-line events); no second UART, no Modbus.
# - Timers: ticks_ms/us and the wall clock from semihosting (C module fcqemu); time.time()
#   is an int, floats are single precision -- as on rp2, stm32, nrf, samd, esp32.
# - Storage: littlefs2 on the 16 MB PSRAM at 0x21000000 (fcqemu.disk(), outside the GC
#   heap like flash); qemu's `-device loader` can preload an image built on the host.
# - The EVSE hardware: the simulated station world of boards/unix (frozen as unix.board),
#   driven by the caller (tests, tools/qemu_run.py) rather than stdin, which qemu's UART
#   cannot poll.
import os

import fcqemu

NAME = "qemu"
MARCH = "armv7m"  # Cortex-M3
STORAGE_ROOT = "/data"
CONFIG_PATH = "/station.json"
BLOCK = 4096
DISK_SIZE = fcqemu.DISK_SIZE  # the whole 16 MB region; tools/qemu_run.py builds images this size


class RamDisk:
    """Block device over the PSRAM region (littlefs' extended interface)."""

    def __init__(self, size=None):
        self.mem = fcqemu.disk()
        self.blocks = (size or DISK_SIZE) // BLOCK

    def readblocks(self, n, buf, off=0):
        a = n * BLOCK + off
        buf[:] = self.mem[a : a + len(buf)]

    def writeblocks(self, n, buf, off=0):
        a = n * BLOCK + off
        self.mem[a : a + len(buf)] = buf

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return self.blocks
        if op == 5:  # block size
            return BLOCK
        if op == 6:  # erase: nothing to do in RAM
            return 0
        return None


def mount(fresh=False):
    """Mount the RAM disk at / (formatting it when it holds no filesystem or fresh=True)."""
    dev = RamDisk()
    if not fresh:
        try:
            os.mount(os.VfsLfs2(dev), "/")
            return dev
        except OSError:
            pass
    os.VfsLfs2.mkfs(dev)
    os.mount(os.VfsLfs2(dev), "/")
    return dev


def exit(code=0):
    """End qemu with this exit status."""
    fcqemu.exit(code)


def paths():
    return CONFIG_PATH, STORAGE_ROOT


def make_board(config, state_dir, stdin=False, out=None):
    from unix.board import SimBoard
    from flexcharge.hal import MCU_MAX_MESSAGE

    b = SimBoard(config, state_dir, stdin=stdin, out=out)
    b.name = NAME
    b.max_message = MCU_MAX_MESSAGE  # the Cortex-M families' receive buffer, not the unix board's
    return b
