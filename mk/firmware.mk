# Real MicroPython builds from Debian's source packages (issue 9), included by the Makefile.
#
#   make setup                     also: toolchain packages + pinned MicroPython/mbedTLS source
#   make firmware BOARD=unix       build/firmware/unix/micropython, FlexCharge frozen in
#   make firmware BOARD=qemu       build/firmware/qemu/firmware.elf (MPS2_AN385, Cortex-M3)
#   make firmware BOARD=rp2 MPY_DIR=~/micropython   (a full checkout of the port: unchanged)
#   make test-frozen-unix | test-frozen-integration | test-qemu | test-qemu-station
#
# The source is Debian trixie's, pinned to these package versions, cached in .mpbuild/
# (ignored) and fetched only when missing.
MPY_DEB_VERSION := 1.25.0+ds-1
MBEDTLS_DEB_VERSION := 3.6.6-0.1~deb13u1
MPB := $(CURDIR)/.mpbuild
MPY_TREE := $(MPB)/micropython-$(firstword $(subst +, ,$(MPY_DEB_VERSION)))
FW_UNIX := $(CURDIR)/build/firmware/unix/micropython
FW_QEMU := $(CURDIR)/build/firmware/qemu/firmware.elf
QEMU_RUN := qemu-system-arm -machine mps2-an385 -nographic -semihosting -serial stdio -monitor none -kernel

.PHONY: fw-setup fw-toolchain fw-sources fw-unix fw-qemu test-frozen-unix test-frozen-integration \
	test-qemu test-qemu-station

# `setup` (Makefile) makes the venv; a machine that has it still gets the toolchain and sources.
setup: fw-setup
fw-setup: fw-toolchain fw-sources

fw-toolchain:
	@bash tools/fwsetup.sh toolchain

fw-sources: fw-toolchain
	@bash tools/fwsetup.sh sources "$(MPB)" "$(MPY_DEB_VERSION)" "$(MBEDTLS_DEB_VERSION)"

# The frozen images; each is an incremental build of the port (seconds when nothing changed).
fw-unix: setup
	@mkdir -p build
	@$(PY) tools/deploy.py firmware --board unix > build/firmware-unix.log 2>&1 || { tail -40 build/firmware-unix.log; exit 1; }
	@echo "frozen unix build: $(FW_UNIX) (log: build/firmware-unix.log)"

fw-qemu: setup
	@mkdir -p build
	@$(PY) tools/deploy.py firmware --board qemu > build/firmware-qemu.log 2>&1 || { tail -40 build/firmware-qemu.log; exit 1; }
	@echo "frozen qemu build: $(FW_QEMU) (log: build/firmware-qemu.log)"

test: test-frozen-unix test-frozen-integration test-qemu test-qemu-station

# Tier 2: the portable tests on the frozen unix build (only the tests come from sources).
test-frozen-unix: fw-unix
	MICROPYPATH=.frozen:$(CURDIR)/host_tests/portable timeout 600 $(FW_UNIX) -X heapsize=4M host_tests/mpy_runner.py

# Tier 4: the portable tests on the qemu Cortex-M3 image, all but those that need a socket
# (host_tests/qemu_portable.py lists them); tests and boards/unix go on the board's RAM disk.
test-qemu: fw-qemu fw-unix
	timeout 900 $(PY) tools/qemu_run.py --tree host_tests=/host_tests --tree boards/unix=/boards/unix host_tests/qemu_portable.py

# Tier 5: a scripted station run on qemu (full firmware, in-memory transport, scripted CSMS):
# boot -> Accepted -> charging session with meter values -> FullInventory; prints the heap.
test-qemu-station: fw-qemu fw-unix
	timeout 300 $(PY) tools/qemu_run.py --timeout 240 --tree host_tests/portable=/host_tests/portable host_tests/qemu_station.py

# Tier 3: the integration suite with tools/station running the frozen unix build.
test-frozen-integration: fw-unix
	FLEXCHARGE_MICROPYTHON=$(FW_UNIX) FLEXCHARGE_FROZEN=1 $(PYTEST) host_tests/integration

# make bench measures the frozen builds too (tools/bench/bench_firmware.py).
bench: fw-unix fw-qemu
