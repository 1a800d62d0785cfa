# Board targets, included by the top-level Makefile (which defines VENV, PY and `setup`).
#
#   make bundle   BOARD=rp2                         .mpy bundle in build/bundle/rp2, size printed
#   make bundles  (or make bundle BOARD=all)        every board, and the README table of sizes and heap
#   make deploy   BOARD=rp2 PORT=/dev/ttyACM0 [CONFIG=station.json]
#   make flash    BOARD=esp32 PORT=/dev/ttyUSB0 IMAGE=firmware.bin [ERASE=1]
#   make firmware BOARD=rp2 MPY_DIR=~/micropython   image with FlexCharge frozen in
#   make package-json                               regenerate package.json (mip)
BOARD ?=
PORT ?=
IMAGE ?=
MPY_DIR ?=
CONFIG ?=
ERASE ?=
BOARDS := esp32 stm32 rp2 nrf samd mimxrt psoc6 renesas_ra

.PHONY: bundle bundles deploy flash firmware package-json help-boards _need-board

_need-board:
	@test -n "$(BOARD)" || { echo "error: give BOARD=<one of: $(BOARDS) unix> or BOARD=all" >&2; exit 2; }
	@test -d "boards/$(BOARD)" || { echo "error: no boards/$(BOARD) (boards: $(BOARDS))" >&2; exit 2; }

ifeq ($(BOARD),all)
bundle: bundles
else
bundle: setup _need-board
	$(PY) tools/bundle.py --board $(BOARD)
endif

# Every board folder (unix included), then the unix bundle booted once for the heap figures
# of the README table (only the lines between its bundle-table markers are rewritten).
bundles: setup
	$(PY) tools/bundle_table.py

deploy: bundle
	$(PY) tools/deploy.py deploy --board $(BOARD) --port "$(PORT)" $(if $(CONFIG),--config "$(CONFIG)")

flash: setup _need-board
	$(PY) tools/deploy.py flash --board $(BOARD) --port "$(PORT)" --image "$(IMAGE)" $(if $(ERASE),--erase)

firmware: setup _need-board
	$(PY) tools/deploy.py firmware --board $(BOARD) --mpy-dir "$(MPY_DIR)"

package-json: setup
	$(PY) tools/bundle.py --package-json

help-boards:
	@echo "Board targets (BOARD = one of: $(BOARDS)):"
	@echo "  make bundle BOARD=rp2                        compile firmware + board modules to .mpy (build/bundle/BOARD), print size"
	@echo "  make bundles  (= make bundle BOARD=all)      bundle every board, boot the unix bundle, update the README table"
	@echo "  make deploy BOARD=rp2 PORT=/dev/ttyACM0 [CONFIG=station.json]"
	@echo "                                               copy the bundle (and station config) to the board with mpremote"
	@echo "  make flash BOARD=esp32 PORT=/dev/ttyUSB0 IMAGE=firmware.bin [ERASE=1]"
	@echo "                                               write a MicroPython image with esptool"
	@echo "  make firmware BOARD=rp2 MPY_DIR=~/micropython  build an image with FlexCharge frozen (needs the port toolchain)"
	@echo "  make package-json                            regenerate package.json for mip"
