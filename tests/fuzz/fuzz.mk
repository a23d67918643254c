# tests/fuzz/fuzz.mk: the libFuzzer targets, included by the top-level
# Makefile. The library objects are rebuilt with clang under build/fuzz/obj/
# with coverage and ASan + UBSan; tests/fuzz/run.sh runs the binaries.
#
#   make fuzz-build   build/fuzz/fuzz_{html,urllist,name,robots,sitemap}
#   make fuzz-smoke   20 s per target on a copy of the corpus; fails on a crash
#   make fuzz         FUZZ_SECONDS (600) per target; FUZZ_MERGE=1 merges new
#                     inputs into tests/fuzz/corpus/, crashes go to
#                     tests/fuzz/crashes/

FUZZ_CC      ?= clang
FUZZ_TARGETS := html urllist name robots sitemap
FUZZ_SECONDS ?= 600
FUZZ_MERGE   ?= 0
FUZZ_SAN     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fno-sanitize-recover=all
FUZZ_BINS    := $(addprefix build/fuzz/fuzz_,$(FUZZ_TARGETS))

.PHONY: fuzz-build fuzz-smoke fuzz

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@); echo '  CC   $@'
	$(FUZZ_CC) $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(CPPFLAGS) \
	  -MMD -MP -c $< -o $@

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(call OBJ,build/fuzz/obj,$(LIBSRCS))
	@mkdir -p $(dir $@); echo '  LINK $@'
	$(FUZZ_CC) $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer $(CPPFLAGS) \
	  -MMD -MP -MF $@.d -MT $@ $(filter %.c %.o,$^) -o $@ $(FUZZ_LDFLAGS) \
	  $(LDLIBS)

# fuzz_urllist serves its input through read() (see the file).
build/fuzz/fuzz_urllist: FUZZ_LDFLAGS := -Wl,--wrap=read

fuzz-build: $(FUZZ_BINS)

fuzz-smoke: fuzz-build
	tests/fuzz/run.sh -t 20 -a build/fuzz/crashes $(FUZZ_TARGETS)

fuzz: fuzz-build
	tests/fuzz/run.sh -t $(FUZZ_SECONDS) -a tests/fuzz/crashes \
	  $(if $(filter 1,$(FUZZ_MERGE)),-m) $(FUZZ_TARGETS)
