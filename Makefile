# weft — build, test, demo, bench, install.
PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PKGS = libuv inih libpcre2-8 nettle libxxhash zlib
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wshadow -Wno-unused-parameter
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# bin/weft takes the six libraries from their static archives where the
# compiler finds them (Debian's -dev packages ship them), each other one
# as a shared library: loading and relocating six shared libraries cost
# every run, one that has nothing to do too, 0.8 M instructions and some
# 50 system calls. STATIC=no links them all as shared libraries, as the
# test drivers and the sanitizer and fuzz builds always are.
STATIC ?= yes
# $(call archive,NAME.a,-lNAME): the archive's path, or -lNAME when there is none.
archive = $(or $(filter /%,$(shell $(CC) -print-file-name=$(1) 2>/dev/null)),$(2))
ifeq ($(STATIC),no)
WEFT_LIBS := $(PKG_LIBS)
else
WEFT_LIBS := $(filter -L%,$(PKG_LIBS)) $(call archive,libuv_a.a,-luv) $(call archive,libinih.a,-linih) \
	$(call archive,libpcre2-8.a,-lpcre2-8) $(call archive,libnettle.a,-lnettle) \
	$(call archive,libxxhash.a,-lxxhash) $(call archive,libz.a,-lz) -lpthread -ldl -lrt
endif
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(PKG_CFLAGS) -iquote build/gen $(CFLAGS)

SRCS = $(wildcard src/*.c src/steps/*.c src/sinks/*.c src/executors/*.c)
OBJS = $(SRCS:src/%.c=build/%.o)
LIB_OBJS = $(filter-out build/main.o,$(OBJS))
# Small C drivers that unit-test pure modules from bats (t/helpers/*.c).
TEST_BINS = $(patsubst t/helpers/%.c,build/t/%,$(wildcard t/helpers/*.c))

.PHONY: all deps demo test bench install clean asan valgrind

all: bin/weft

build/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# The HTML report's page (src/report/page.html) as a C string, report_page[],
# for src/sinks/report.c: each line quoted, with \\, " and ? escaped (? so
# that no "??" is read as a trigraph).
REPORT_PAGE = build/gen/report_page.h
$(REPORT_PAGE): src/report/page.html
	@mkdir -p $(dir $@)
	@{ echo '/* Made from src/report/page.html by the Makefile: do not edit. */'; \
	  echo 'static const char report_page[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@.tmp && mv $@.tmp $@
build/sinks/report.o: $(REPORT_PAGE)

build/t/%: t/helpers/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -iquote src -o $@ $< $(LIB_OBJS) $(PKG_LIBS) -lpthread

bin/weft: $(OBJS)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(WEFT_LIBS) -lpthread

# Installs what pkg-config, bats or GNU parallel cannot find (apt-get as root).
deps:
	@sh .ci/deps

demo: deps
	@$(MAKE) --no-print-directory bin/weft
	bin/weft -f recipes/demo.ini

test: deps
	@$(MAKE) --no-print-directory bin/weft $(TEST_BINS)
	@t/run

bench: deps
	@$(MAKE) --no-print-directory bin/weft
	t/bench/run

install: bin/weft
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 755 bin/weft $(DESTDIR)$(PREFIX)/bin/weft
	install -m 644 man/weft.1 $(DESTDIR)$(PREFIX)/share/man/man1/weft.1
	install -m 644 man/weft.ini.5 $(DESTDIR)$(PREFIX)/share/man/man5/weft.ini.5
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 644 completions/weft.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/weft
	install -m 644 completions/_weft $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_weft
	install -m 644 completions/weft.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/weft.fish

# The whole suite against a build with AddressSanitizer and UBSan; any
# report fails the run (halt_on_error, and UBSan made fatal).
ASAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
# Reports go to files, so that one from a cluster's runner (whose stderr
# only its master reads) fails the run too.
asan: deps
	@$(MAKE) --no-print-directory build-asan/bin/weft $(TEST_BINS)
	@rm -rf build-asan/reports && mkdir -p build-asan/reports
	@ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0:log_path=$(CURDIR)/build-asan/reports/asan \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$(CURDIR)/build-asan/reports/ubsan WEFT_RSS_MAX_KB=1048576 \
		WEFT=$(CURDIR)/build-asan/bin/weft t/run; status=$$?; \
	if [ -n "$$(ls build-asan/reports)" ]; then echo "sanitizer reports:"; cat build-asan/reports/*; exit 1; fi; \
	exit $$status

build-asan/bin/weft: $(SRCS) $(wildcard src/*.h src/*/*.h) $(REPORT_PAGE)
	@mkdir -p build-asan/bin
	$(CC) -std=c11 -D_GNU_SOURCE $(PKG_CFLAGS) -iquote build/gen $(ASAN_FLAGS) -o $@ $(SRCS) $(PKG_LIBS) -lpthread

# A representative part of the suite under valgrind's memcheck: any error
# or leak fails the run.
VALGRIND_TESTS = t/001-basics.bats t/010-cli.bats t/100-recipe-errors.bats t/200-order.bats t/420-exec.bats
valgrind: deps bin/weft
	@WEFT_VALGRIND=1 WEFT="$(CURDIR)/t/helpers/valgrind-weft" t/run $(VALGRIND_TESTS)

clean:
	rm -rf build build-asan bin/weft

-include $(OBJS:.o=.d)

# Fuzzing with libFuzzer (clang): one target per parser, t/fuzz/fuzz_NAME.c,
# linked with every module but main.c. `make fuzz` runs each for
# FUZZ_SECONDS; `make fuzz-smoke` is the short run CI makes. Both first
# replay t/fuzz/regressions/NAME/*, and fail on any crash, leak or broken
# property (the input is left in build/fuzz/crashes-NAME/). The seeds in
# t/fuzz/corpus/NAME are copied to build/fuzz/corpus-NAME, which a run grows.
FUZZERS = recipe replace joblog duration events state dirs
FUZZ_CC = clang
FUZZ_SECONDS ?= 600
FUZZ_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SRCS = $(filter-out src/main.c,$(SRCS))
FUZZ_BINS = $(FUZZERS:%=build/fuzz/fuzz_%)

.PHONY: fuzz fuzz-smoke fuzz-build

fuzz-build: $(FUZZ_BINS)

build/fuzz/fuzz_%: t/fuzz/fuzz_%.c t/fuzz/fuzz.h $(FUZZ_SRCS) $(wildcard src/*.h src/*/*.h) $(REPORT_PAGE)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE $(PKG_CFLAGS) $(FUZZ_FLAGS) -iquote src -iquote build/gen -o $@ $< $(FUZZ_SRCS) $(PKG_LIBS) -lpthread

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) t/fuzz/run $(FUZZERS)

fuzz-smoke: deps
	@$(MAKE) --no-print-directory fuzz-build
	@FUZZ_SECONDS=30 t/fuzz/run $(FUZZERS)

# The whole suite with TMPDIR (so every test's directory) inside a
# directory whose name holds a space, quotes, a newline, $(...) and
# backticks; fails if a shell evaluated that name or a temp file was
# left behind (t/helpers/hostile-suite).
# The recipe and fan-out suites again with --cluster 2 added to every run
# (t/helpers/weft-cluster): a run must look the same on a cluster.
CLUSTER_TESTS = t/001-basics.bats t/200-order.bats t/300-process.bats t/420-exec.bats t/430-exec-output.bats \
	t/435-exec-progress.bats t/440-exec-joblog.bats t/450-foreach.bats t/520-step-tasks.bats t/530-uptodate.bats
.PHONY: test-cluster
test-cluster: deps
	@$(MAKE) --no-print-directory bin/weft $(TEST_BINS)
	@WEFT_REAL=$(CURDIR)/bin/weft WEFT=$(CURDIR)/t/helpers/weft-cluster t/run $(CLUSTER_TESTS)

# What GNU parallel prints for the calls the tests compare weft exec with
# is kept in t/fixtures/parallel (it takes half a second of CPU to start):
# parallel-fixtures records it anew from the installed GNU parallel;
# test-parallel-live runs those tests against it, keeping nothing.
PARALLEL_TESTS = $(shell grep -l gnu_parallel t/*.bats)
.PHONY: parallel-fixtures test-parallel-live
parallel-fixtures: deps
	@$(MAKE) --no-print-directory bin/weft $(TEST_BINS)
	@rm -rf t/fixtures/parallel
	@WEFT_PARALLEL_RECORD=1 t/run $(PARALLEL_TESTS)

test-parallel-live: deps
	@$(MAKE) --no-print-directory bin/weft $(TEST_BINS)
	@WEFT_PARALLEL_LIVE=1 t/run $(PARALLEL_TESTS)

# The randomized fault tests (kill -9 at random moments, random recipes)
# with ten times the rounds they make in `make test`: run on purpose.
SOAK_TESTS = t/410-joblog.bats t/440-exec-joblog.bats t/510-cache.bats t/910-recipe-faults.bats
.PHONY: soak
soak: deps
	@$(MAKE) --no-print-directory bin/weft $(TEST_BINS)
	@WEFT_SOAK=1 t/run $(SOAK_TESTS)

# The README's picture of a report (docs/report.png), taken by the report
# tests in headless chromium.
.PHONY: screenshot
screenshot: deps
	@$(MAKE) --no-print-directory bin/weft
	@WEFT_SCREENSHOT=$(CURDIR)/docs/report.png t/run t/640-report.bats

.PHONY: test-hostile
test-hostile: deps
	@$(MAKE) --no-print-directory bin/weft $(TEST_BINS)
	@t/helpers/hostile-suite
