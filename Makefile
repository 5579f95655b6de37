# Tessera: the two commands a newcomer needs are `make run` and `make test`; both install any
# missing Debian packages first (scripts/bootstrap). Everything else is CMake (CMakePresets.json).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CPU ?= cortex-a72
MEMORY ?= 128M
FUZZ_SECONDS ?= 300
# The system-call fuzzer (make fuzz-syscalls): seeds FIRST-LAST, calls per seed, extra boot
# arguments (e.g. tick_hz=20000); a failing seed replays exactly with the same values.
SEEDS ?= 1-200
CALLS ?= 10000
FUZZ_ARGS ?=
KERNEL := build/aarch64/tessera.elf

.PHONY: all bootstrap build run test debug bench soak fuzz fuzz-syscalls fuzz-reduce lint format clean

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	@cmake --preset aarch64 >/dev/null && cmake --build --preset aarch64 -j $(JOBS)

# Boots the interactive system in QEMU on this terminal (Ctrl-A X quits).
run: build
	@tools/qemu-run --mode interactive --kernel $(KERNEL) --cpu $(CPU) --memory $(MEMORY) \
		--module build/aarch64/images.cpio

# Host unit tests (plain and ASan+UBSan), fuzz smoke runs, in-QEMU system tests.
test: bootstrap
	@JOBS=$(JOBS) scripts/test-all

# QEMU paused at the first instruction with a GDB server; gdb-multiarch attached with symbols.
debug: build
	@scripts/bootstrap debug
	@tools/qemu-run --mode debug --kernel $(KERNEL) --cpu $(CPU) --memory $(MEMORY) \
		--qemu-arg=-display --qemu-arg=none --qemu-arg=-serial --qemu-arg=file:build/debug-console.log & \
	qemu=$$!; \
	echo "QEMU is waiting for GDB (console output goes to build/debug-console.log)"; \
	gdb-multiarch -q $(KERNEL) -ex 'set architecture aarch64' -ex 'target remote localhost:1234'; \
	kill $$qemu 2>/dev/null; wait $$qemu 2>/dev/null; true

# Benchmark images under -icount shift=0: deterministic guest instruction counts.
bench: build
	@for image in build/aarch64/tessera-bench-*.elf; do \
		module=build/aarch64/images.cpio; memory=$(MEMORY); \
		case $$image in *spawn*) module=build/aarch64/bench-images.cpio;; esac; \
		case $$image in *fork*) module=build/aarch64/bench-images.cpio; memory=512M;; esac; \
		tools/qemu-run --mode bench --kernel $$image --cpu $(CPU) --memory $$memory \
			--append pmu_user --module $$module | \
			sed -n '/^Benchmark/,$$p'; \
	done

# Every fuzz target for FUZZ_SECONDS each, then the system-call fuzzer over SEEDS (2 million
# calls by default: at the normal tick and at a 20 kHz one).
fuzz: bootstrap
	@cmake --preset host-asan >/dev/null && cmake --build --preset host-asan -j $(JOBS)
	@cd build/host-asan && FUZZ_SECONDS=$(FUZZ_SECONDS) ctest -L fuzz --output-on-failure \
		--timeout $$(( $(FUZZ_SECONDS) + 120 )) || \
		{ echo "fuzzing found a problem: see crash-* in build/host-asan/fuzz-corpus"; exit 1; }
	@$(MAKE) --no-print-directory fuzz-syscalls SEEDS=1-100
	@$(MAKE) --no-print-directory fuzz-syscalls SEEDS=1001-1100 FUZZ_ARGS=tick_hz=20000

# 10,000 spawn and kill cycles through the controller in the interactive system: ten rounds of
# a thousand PDs at once, each ending with every byte of the pool back (make test runs two).
SOAK_ROUNDS ?= 10
soak: build
	@args=""; for i in $$(seq $(SOAK_ROUNDS)); do 		args="$$args --input 'spawn 1000 spinner quiet' --input 'kill all'"; 		args="$$args --expect '1000 PDs of spinner started'"; 		args="$$args --expect '1000 PDs killed; the pool has [0-9]+ KiB free: every byte back'"; 	done; 	eval tools/qemu-run --mode expect --kernel $(KERNEL) --cpu $(CPU) --memory $(MEMORY) 		--module build/aarch64/images.cpio --name soak --timeout 3000 $$args

# A failing seed reduced to the shortest failing run: make fuzz-reduce SEED=n CALLS=N.
fuzz-reduce: build
	@tools/fuzz-reduce $(SEED) $(CALLS) $(FUZZ_ARGS)

# The system-call fuzzer alone: an untrusted PD making CALLS random invocations per seed.
fuzz-syscalls: build
	@tools/qemu-run --mode expect --icount --kernel build/aarch64/tessera-syscall-fuzz.elf \
		--module build/aarch64/images.cpio --timeout 3000 --expect-status 0 \
		--append "fuzz.seeds=$(SEEDS) fuzz.calls=$(CALLS) $(FUZZ_ARGS)" \
		--expect "memory whole after every seed" > build/fuzz-syscalls.log; status=$$?; \
	grep -a "syscall-fuzz\|  call\|PANIC\|: PASS\|: FAIL" build/fuzz-syscalls.log; \
	echo "(the whole console: build/fuzz-syscalls.log)"; exit $$status

lint: bootstrap
	@tools/check-format
	@tools/run-clang-tidy

format:
	@git ls-files '*.cpp' '*.hpp' '*.h' '*.c' | xargs clang-format -i

clean:
	rm -rf build
