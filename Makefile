# gather: one plain Makefile. Objects go under build/ (build/asan/ and
# build/tsan/ for the sanitizer builds); flags come from pkg-config.

VERSION  := 0.1.0
PKGS     := libcurl libxml-2.0 libcrypto jansson zlib
CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror
CPPFLAGS := $(shell pkg-config --cflags $(PKGS)) -DGATHER_VERSION='"$(VERSION)"'
LDLIBS   := $(shell pkg-config --libs $(PKGS)) -lpthread -lm
PREFIX   ?= /usr/local

SRCS     := $(wildcard fetch/*.c parse/*.c cmd/*.c)
LIBSRCS  := $(filter-out cmd/main.c,$(SRCS))
UNITS    := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
# Linked into every unit test: finding and running the data cases.
UNITLIB  := tests/unit/unit_cases.c

OBJ      = $(patsubst %.c,$(1)/%.o,$(2))
# V=1 shows the full compiler lines.
ifneq ($(V),1)
.SILENT:
endif

.PHONY: all test unit integration asan asan-test tsan-test bench clean install deps sample
all: gather

# --- the program --------------------------------------------------------
build/obj/%.o: %.c
	@mkdir -p $(dir $@); echo '  CC   $@'
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -MMD -MP -c $< -o $@

gather: $(call OBJ,build/obj,$(SRCS))
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# --- sanitizer build: same sources, ASan + UBSan ------------------------
SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=all
build/asan/%.o: %.c
	@mkdir -p $(dir $@); echo '  CC   $@'
	$(CC) $(WARN) $(SANFLAGS) $(CPPFLAGS) -DGATHER_TEST_HOOKS -MMD -MP -c $< -o $@

build/asan/gather: $(call OBJ,build/asan,$(SRCS))
	$(CC) $(SANFLAGS) $^ -o $@ $(LDLIBS)

asan: build/asan/gather

# --- thread sanitizer build: the threads of every mode (loop, writer,
# transfer threads, background robots.txt fetches, parse workers' pools)
TSANFLAGS := -O1 -g -fsanitize=thread -fno-omit-frame-pointer
build/tsan/%.o: %.c
	@mkdir -p $(dir $@); echo '  CC   $@'
	$(CC) $(WARN) $(TSANFLAGS) $(CPPFLAGS) -DGATHER_TEST_HOOKS -MMD -MP -c $< -o $@

build/tsan/gather: $(call OBJ,build/tsan,$(SRCS))
	$(CC) $(TSANFLAGS) $^ -o $@ $(LDLIBS)

# --- test build: optimised, with the test hooks (GATHER_TEST_* variables)
build/test/%.o: %.c
	@mkdir -p $(dir $@); echo '  CC   $@'
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -DGATHER_TEST_HOOKS -MMD -MP -c $< -o $@

build/test/gather: $(call OBJ,build/test,$(SRCS))
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# --- tests --------------------------------------------------------------
build/tests/%: tests/unit/%.c $(call OBJ,build/asan,$(UNITLIB) $(LIBSRCS))
	@mkdir -p $(dir $@); echo '  CC   $@'
	$(CC) $(WARN) $(SANFLAGS) $(CPPFLAGS) -I. $^ -o $@ $(LDLIBS) -lcmocka

# The unit tests that start threads, built for TSan too (tsan-test).
TSAN_UNITS := test_fetch_bg test_parse
build/tsan-tests/%: tests/unit/%.c $(call OBJ,build/tsan,$(UNITLIB) $(LIBSRCS))
	@mkdir -p $(dir $@); echo '  CC   $@'
	$(CC) $(WARN) $(TSANFLAGS) $(CPPFLAGS) -I. $^ -o $@ $(LDLIBS) -lcmocka

unit: $(addprefix build/tests/,$(UNITS))
	@set -e; for t in $^; do echo "== $$t"; (cd tests/unit && ../../$$t); done

integration: gather build/test/gather
	GATHER_HOOKED=./build/test/gather tests/integration/run.sh ./gather

asan-test: build/asan/gather
	GATHER_SANITIZED=1 GATHER_HOOKED=./build/asan/gather \
	  tests/integration/run.sh ./build/asan/gather

# The integration tests under TSan; a race report ends the process (exit
# 66), which fails the test. t_compare and t_workers are left out: their
# hooks crash a parse on purpose, and TSan turns that signal into an exit
# of its own.
TSAN_TESTS := t_auto t_cli t_crawl t_errors t_faults_ t_interrupt t_modes \
              t_naming t_polite t_records_file t_request t_resume \
              t_robots_async t_sample_site t_stream
tsan-test: build/tsan/gather $(addprefix build/tsan-tests/,$(TSAN_UNITS))
	TSAN_UNITS="$(addprefix build/tsan-tests/,$(TSAN_UNITS))" \
	  tests/integration/tsan.sh ./build/tsan/gather $(TSAN_TESTS)

test: all unit integration asan-test tsan-test fuzz-smoke
	@echo "== all tests passed"

# --- everything else ----------------------------------------------------
bench: gather
	bench/run.sh

deps:
	.ci/deps

sample: gather
	samples/demo

install: gather
	install -D -m 0755 gather $(DESTDIR)$(PREFIX)/bin/gather

clean:
	rm -rf build gather

-include $(shell find build -name '*.d' 2>/dev/null)
include tests/fuzz/fuzz.mk
