# weft — build, test, demo, bench, install.
PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PKGS = libuv inih libpcre2-8 libcrypto libxxhash
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wshadow -Wno-unused-parameter
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(PKG_CFLAGS) $(CFLAGS)

SRCS = $(wildcard src/*.c src/steps/*.c)
OBJS = $(SRCS:src/%.c=build/%.o)
LIB_OBJS = $(filter-out build/main.o,$(OBJS))
# Small C drivers that unit-test pure modules from bats (t/helpers/*.c).
TEST_BINS = $(patsubst t/helpers/%.c,build/t/%,$(wildcard t/helpers/*.c))

.PHONY: all deps demo test bench install clean

all: bin/weft

build/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -c $< -o $@

build/t/%: t/helpers/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(LIB_OBJS) $(PKG_LIBS)

bin/weft: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(PKG_LIBS)

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

clean:
	rm -rf build bin/weft

-include $(OBJS:.o=.d)
