# The C user module (firmware/cmodules/flexcharge_c), included by the Makefile.
#
#   make test-cmod    differential tests: the C core built for the host (ctypes) against the
#                     pure-Python fallbacks of flexcharge.accel and CPython's oracles; then the
#                     binding inside a MicroPython build with the module compiled in
#                     (CMOD_MICROPYTHON, default: the frozen unix image of `make firmware
#                     BOARD=unix`), C against Python in the same interpreter
#   make test-fuzz    a bounded libFuzzer run (FUZZ_SECONDS each, default 20) of every C entry
#                     point with AddressSanitizer and UBSan (Debian's clang); fails on any
#                     finding, which libFuzzer leaves as build/fuzz/crash-* to replay
#   make test-cmod-qemu  the stock qemu MPS2_AN385 (Cortex-M3: 32-bit ints, float32) image with
#                     only flexcharge_c, accel and test_accel frozen in, run under qemu (the
#                     full firmware image of `make firmware BOARD=qemu` runs test_accel with
#                     the other portable tests); source: CMOD_MPY_DIR (default the Debian tree)
#   make bench-cmod   tools/bench/bench_cmod.py (GetVariables round-trip CPU time)
CMOD_DIR := firmware/cmodules/flexcharge_c
CMOD_MICROPYTHON ?= $(CURDIR)/build/firmware/unix/micropython
FUZZ_SECONDS ?= 20
FUZZ_CC ?= clang
FUZZ_DIR := build/fuzz
FUZZ_TARGETS := MASK WS_HEADER WS_ENCODE UTF8 JSON TIME ENERGY CRC16
FUZZ_FLAGS := -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I$(CMOD_DIR)

CMOD_MPY_DIR = $(if $(MPY_TREE),$(MPY_TREE),$(CURDIR)/build/mp)
CMOD_QEMU := $(CURDIR)/build/qemu-cmod

.PHONY: test-cmod test-cmod-host test-cmod-mpy test-cmod-qemu test-fuzz bench-cmod

test: test-cmod test-fuzz

test-cmod: test-cmod-host test-cmod-mpy

test-cmod-host: setup
	$(PYTEST) host_tests/unit/test_cmod_differential.py

# The frozen unix image comes from mk/firmware.mk (fw-unix) when this checkout has it;
# CMOD_MICROPYTHON=<binary> points at any other build with flexcharge_c compiled in.
test-cmod-mpy: setup
	@if [ "$(origin CMOD_MICROPYTHON)" != "command line" ] && [ "$(origin CMOD_MICROPYTHON)" != "environment" ] \
	    && grep -q '^fw-unix:' mk/*.mk; then $(MAKE) --no-print-directory fw-unix; fi
	@# a checkout that cannot build the image (no mk/firmware.mk) skips; one that can must have it
	@if [ ! -x "$(CMOD_MICROPYTHON)" ]; then \
	  if grep -q '^fw-unix:' mk/*.mk; then echo "test-cmod-mpy: no MicroPython with flexcharge_c at $(CMOD_MICROPYTHON)" >&2; exit 1; fi; \
	  echo "test-cmod-mpy: skipped (no MicroPython build with flexcharge_c; give CMOD_MICROPYTHON=...)"; exit 0; fi; \
	set -e; FLEXCHARGE_CMOD_MICROPYTHON=$(CMOD_MICROPYTHON) $(PYTEST) host_tests/cmod/test_mp_differential.py; \
	MICROPYPATH=.frozen:$(CURDIR)/firmware:$(CURDIR)/host_tests/portable timeout 300 $(CMOD_MICROPYTHON) -X heapsize=2M host_tests/mpy_runner.py test_accel

$(FUZZ_DIR)/fuzz_%: host_tests/cmod/fuzz_fc.c $(CMOD_DIR)/fc_core.c $(CMOD_DIR)/fc_core.h
	@mkdir -p $(FUZZ_DIR)
	@command -v $(FUZZ_CC) >/dev/null || { echo "test-fuzz: $(FUZZ_CC) not found: make setup installs clang and libclang-rt-14-dev" >&2; exit 1; }
	$(FUZZ_CC) $(FUZZ_FLAGS) -DFUZZ_$* host_tests/cmod/fuzz_fc.c $(CMOD_DIR)/fc_core.c -o $@

# Each target keeps its corpus (build/fuzz/corpus-*) between runs, so coverage accumulates.
test-fuzz: $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_TARGETS))
	@set -e; cd $(FUZZ_DIR); for t in $(FUZZ_TARGETS); do \
	  mkdir -p corpus-$$t; \
	  if ./fuzz_$$t corpus-$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
	      -print_final_stats=1 > log-$$t.txt 2>&1; then \
	    echo "fuzz $$t: $$(grep -o 'stat::number_of_executed_units: *[0-9]*' log-$$t.txt | grep -o '[0-9]*$$') runs, no finding"; \
	  else \
	    echo "fuzz $$t: FINDING (build/fuzz/log-$$t.txt):" >&2; grep -A12 'ERROR\|property failed\|runtime error' log-$$t.txt | head -40 >&2; exit 1; \
	  fi; done

test-cmod-qemu:
	@test -d "$(CMOD_MPY_DIR)/ports/qemu" || { echo "test-cmod-qemu: no MicroPython source at $(CMOD_MPY_DIR) (make setup)" >&2; exit 1; }
	@mkdir -p $(CMOD_QEMU)/nolib
	@echo "no micropython-lib in the Debian source" > $(CMOD_QEMU)/nolib/README.md
	@printf 'package("flexcharge", files=["__init__.py", "accel.py"], base_path="%s/firmware")\nmodule("test_accel.py", base_path="%s/host_tests/portable")\nmodule("qemu_accel.py", base_path="%s/host_tests/cmod")\n' \
	    $(CURDIR) $(CURDIR) $(CURDIR) > $(CMOD_QEMU)/manifest.py
	@# mps2.ld leaves libgcc's .ARM.exidx (64-bit division) unplaced; nothing unwinds
	@printf 'INCLUDE mcu/arm/mps2.ld\nSECTIONS { /DISCARD/ : { *(.ARM.exidx*) } }\n' > $(CMOD_QEMU)/mps2.ld
	$(MAKE) -C $(CMOD_MPY_DIR)/mpy-cross -j2 > $(CMOD_QEMU)/build.log 2>&1
	$(MAKE) -C $(CMOD_MPY_DIR)/ports/qemu -j2 BOARD=MPS2_AN385 USER_C_MODULES=$(CURDIR)/firmware/cmodules \
	    MPY_LIB_DIR=$(CMOD_QEMU)/nolib BUILD=$(CMOD_QEMU) FROZEN_MANIFEST=$(CMOD_QEMU)/manifest.py \
	    LDSCRIPT=$(CMOD_QEMU)/mps2.ld >> $(CMOD_QEMU)/build.log 2>&1 || { tail -30 $(CMOD_QEMU)/build.log; exit 1; }
	$(PY) host_tests/cmod/run_qemu.py $(CMOD_QEMU)/firmware.elf

bench-cmod: setup
	$(PY) tools/bench/bench_cmod.py
