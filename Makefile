# SPDX-License-Identifier: GPL-2.0-or-later
#
# make              build ./vmet
# make check        unit tests (cmocka) + end-to-end tests (real guests)
# make check-unit   unit tests only
# make asan         the whole suite built with ASan+UBSan (in build-asan/)
# make valgrind     the end-to-end tests with vmet under valgrind
# make bench        build and run the benchmarks
# make install PREFIX=/usr/local DESTDIR=
#
# CC=clang works as well as gcc; both must stay warning-free.

VERSION   := 0.1.0
CC        ?= cc
PREFIX    ?= /usr/local
BUILDDIR  ?= build
SANITIZE  ?= 0

CPPFLAGS  += -I. -D_GNU_SOURCE -DVMET_VERSION='"$(VERSION)"' \
             -DVMET_PROFILE_DATADIR='"$(PREFIX)/share/vmet/profiles"'
CPPFLAGS  += $(shell pkg-config --cflags fuse3)
CFLAGS    ?= -O2 -g
CFLAGS    += -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
             -Wmissing-prototypes -Wno-unused-parameter -fno-strict-aliasing
LDLIBS    += -ldw -lelf -lz -lcrypto -lpthread -ldl -lfuse3

CFLAGS    += $(EXTRA_CFLAGS)

# The Xen connector (live/xen.c) takes its types from Debian's libxen-dev
# and loads the libraries with dlopen at run time (-ldl above), so vmet
# never links against Xen.  Xen's public headers use anonymous unions
# and refuse strict ISO C, hence gnu11 for that one file.  Without the
# headers the connector is built as a stub that says so.
XEN_CFLAGS := -std=gnu11
ifeq ($(wildcard /usr/include/xenctrl.h),)
XEN_CFLAGS += -DVMET_NO_XEN_HEADERS
endif
$(BUILDDIR)/live/xen.o: CFLAGS += $(XEN_CFLAGS)

ifeq ($(SANITIZE),1)
CFLAGS    += -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer
LDFLAGS   += -fsanitize=address,undefined
endif

LIB_SRCS  := $(sort $(wildcard core/*.c formats/*.c profiles/*.c os/linux/*.c live/*.c))
CMD_SRCS  := $(sort $(wildcard cmd/*.c))
TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TEST_HELPER_SRCS := $(sort $(wildcard tests/unit/helper_*.c))
BENCH_SRCS := $(sort $(wildcard bench/*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILDDIR)/%.o)
CMD_OBJS  := $(CMD_SRCS:%.c=$(BUILDDIR)/%.o)
TEST_HELPER_OBJS := $(TEST_HELPER_SRCS:%.c=$(BUILDDIR)/%.o)
TEST_BINS := $(TEST_SRCS:%.c=$(BUILDDIR)/%)
BENCH_BINS := $(BENCH_SRCS:%.c=$(BUILDDIR)/%)
LIB       := $(BUILDDIR)/libvmet.a

ifeq ($(BUILDDIR),build)
VMET_BIN  := vmet
else
VMET_BIN  := $(BUILDDIR)/vmet
endif

.PHONY: all check check-unit check-e2e asan valgrind bench fuzz install clean testbed
all: $(VMET_BIN)

$(BUILDDIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(VMET_BIN): $(CMD_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CMD_OBJS) $(LIB) $(LDLIBS)

$(BUILDDIR)/tests/unit/test_%: $(BUILDDIR)/tests/unit/test_%.o $(TEST_HELPER_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_HELPER_OBJS) $(LIB) $(LDLIBS) -lcmocka

$(BUILDDIR)/bench/%: $(BUILDDIR)/bench/%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

check-unit: $(TEST_BINS) $(VMET_BIN)
	@VMET=$(abspath $(VMET_BIN)) tests/run-unit.sh $(TEST_BINS)

check-e2e: $(VMET_BIN)
	@VMET=$(abspath $(VMET_BIN)) VMET_INSTRUMENTED=$(if $(filter 1,$(SANITIZE)),asan) tests/run-e2e.sh

check: check-unit check-e2e

# The end-to-end tests with every vmet run under valgrind's memcheck: an
# invalid access, a use of uninitialised memory or a definite leak makes
# that run exit 99, which the test reports as a failure.
valgrind: $(VMET_BIN)
	@mkdir -p $(BUILDDIR)
	@printf '#!/bin/sh\nexec valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite "%s" "$$@"\n' \
	  "$(abspath $(VMET_BIN))" > $(BUILDDIR)/vmet-valgrind
	@chmod +x $(BUILDDIR)/vmet-valgrind
	@VMET=$(abspath $(BUILDDIR)/vmet-valgrind) VMET_INSTRUMENTED=valgrind tests/run-e2e.sh

asan:
	$(MAKE) BUILDDIR=build-asan SANITIZE=1 check

bench: $(BENCH_BINS) $(VMET_BIN)
	@VMET=$(abspath $(VMET_BIN)) bench/run.sh $(BENCH_BINS)

# libFuzzer harnesses: the library rebuilt with clang, coverage and ASan+UBSan.
fuzz:
	$(MAKE) BUILDDIR=build-fuzz CC=clang SANITIZE=1 \
	  EXTRA_CFLAGS="-fsanitize=fuzzer-no-link" fuzz-bins
	tests/fuzz/run.sh $(FUZZ_SRCS:tests/fuzz/%.c=build-fuzz/tests/fuzz/%)

fuzz-bins: $(FUZZ_SRCS:%.c=$(BUILDDIR)/%)

$(BUILDDIR)/tests/fuzz/fuzz_%: $(BUILDDIR)/tests/fuzz/fuzz_%.o $(LIB)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< $(LIB) $(LDLIBS)

testbed:
	tests/guest/testbed.sh

install: $(VMET_BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	           $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/vmet/profiles
	install -m 0755 $(VMET_BIN) $(DESTDIR)$(PREFIX)/bin/vmet
	install -m 0644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	-install -m 0644 profiles/*.vmprof $(DESTDIR)$(PREFIX)/share/vmet/profiles/ 2>/dev/null

clean:
	rm -rf build build-asan vmet

# Every object's header dependencies (a stale test helper built against an
# older header is a wrong test); objects are kept, not deleted as
# intermediates, so that a second make rebuilds nothing.
-include $(patsubst %.c,$(BUILDDIR)/%.d,$(LIB_SRCS) $(CMD_SRCS) $(TEST_SRCS) \
	   $(TEST_HELPER_SRCS) $(BENCH_SRCS) $(FUZZ_SRCS))
.SECONDARY:
