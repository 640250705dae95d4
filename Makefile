# sunarchive - records-retention archiving daemon for city social media.
# Plain GNU make; dependencies from pkg-config; objects in build/.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR    ?= /lib/systemd/system
DESTDIR    ?=
BUILD      ?= build

PKGS       := libcurl jansson libcrypto zlib libarchive sqlite3
CC         ?= cc
WARN       := -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
	      -Wmissing-prototypes -Wformat=2 -Wvla -Wimplicit-fallthrough \
	      -Wwrite-strings
ifeq ($(CI),true)
WARN       += -Werror
endif
HARDEN     := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
OPT        ?= -O2 -g
CFLAGS     ?=
CFLAGS     += -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(HARDEN) -iquote include -iquote $(BUILD) \
	      -DSUNARCHIVE_VERSION='"$(VERSION)"' \
	      $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS    += -pie -Wl,-z,relro,-z,now
LIBS       := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -lpthread

# Core objects shared by both binaries (fetch.c: libcurl, also for the
# time-stamps of export packages).
CORE_SRCS  := xalloc.c log.c util.c buf.c sysio.c config.c hash.c merkle.c \
	      compress.c warc.c segment.c index.c record.c store.c spool.c reindex.c checkpoint.c tsa.c ledger.c redact.c query.c verify.c request.c export.c fetch.c
# Daemon-only objects (network, scheduling, connectors).
DMN_SRCS   := connector.c conn_facebook.c conn_mastodon.c anchor.c \
	      capture.c schedule.c notify.c loop.c
CLI_SRCS   := ctl.c $(notdir $(wildcard daemon/cmd/*.c))

CORE_OBJS  := $(addprefix $(BUILD)/,$(CORE_SRCS:.c=.o))
DMN_OBJS   := $(addprefix $(BUILD)/,$(DMN_SRCS:.c=.o))
CLI_OBJS   := $(BUILD)/ctl.o $(patsubst daemon/cmd/%.c,$(BUILD)/cmd/%.o,$(wildcard daemon/cmd/*.c))

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

BINS       := $(BUILD)/sunarchived $(BUILD)/sunarchive

.PHONY: all deps check unit e2e asan bench demo install clean lint fuzz

all: $(BINS) $(UNIT_BINS) $(BUILD)/bench

deps:
	@scripts/install-deps

$(BUILD)/%.o: daemon/%.c $(wildcard include/*.h) | $(BUILD)/cmd
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/cmd/%.o: daemon/cmd/%.c $(wildcard include/*.h) | $(BUILD)/cmd
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/cmd:
	mkdir -p $(BUILD)/cmd $(BUILD)/tests

# The index schema, embedded as a C string from daemon/schema.sql.
$(BUILD)/schema.h: daemon/schema.sql | $(BUILD)/cmd
	{ echo '#define SCHEMA_SQL \\'; sed -e 's/--.*$$//' -e '/^[[:space:]]*$$/d' \
	  -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n" \\/' $<; echo '""'; } > $@

$(BUILD)/index.o: $(BUILD)/schema.h

$(BUILD)/libcore.a: $(CORE_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libdaemon.a: $(DMN_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/sunarchived: $(BUILD)/main.o $(BUILD)/libdaemon.a $(BUILD)/libcore.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/sunarchive: $(CLI_OBJS) $(BUILD)/libcore.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/tap.h $(BUILD)/libdaemon.a $(BUILD)/libcore.a
	$(CC) $(CFLAGS) -iquote tests/unit $(LDFLAGS) -o $@ $< $(BUILD)/libdaemon.a $(BUILD)/libcore.a $(LIBS)

$(BUILD)/bench: tests/bench/bench.c $(BUILD)/libdaemon.a $(BUILD)/libcore.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

# The whole suite: unit tests, simulator self-test, end-to-end tests.
check: deps
	$(MAKE) all
	python3 tests/run.py --build $(BUILD)

unit: all
	python3 tests/run.py --build $(BUILD) --only unit

asan: deps
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		HARDEN="-fstack-protector-strong" all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		python3 tests/run.py --build build-asan --asan

bench: deps
	$(MAKE) all
	$(BUILD)/bench

demo: deps
	$(MAKE) all
	scripts/demo

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
		$(DESTDIR)$(SYSCONFDIR)/sunarchive $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(PREFIX)/share/doc/sunarchive
	install -m 0755 $(BUILD)/sunarchived $(DESTDIR)$(PREFIX)/sbin/sunarchived
	install -m 0755 $(BUILD)/sunarchive $(DESTDIR)$(PREFIX)/bin/sunarchive
	install -m 0644 conf/sunarchive.conf.example $(DESTDIR)$(PREFIX)/share/doc/sunarchive/
	test -e $(DESTDIR)$(SYSCONFDIR)/sunarchive/sunarchive.conf || \
		install -m 0640 conf/sunarchive.conf.example $(DESTDIR)$(SYSCONFDIR)/sunarchive/sunarchive.conf
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' systemd/sunarchived.service \
		> $(DESTDIR)$(UNITDIR)/sunarchived.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/sunarchived.service

lint:
	scripts/lint

clean:
	rm -rf build build-asan

# --- Fuzzing (tests/fuzz/README.md) ------------------------------------------
# fuzz: every tests/fuzz/fuzz_NAME.c with clang, libFuzzer, ASan and UBSan
# in $(FUZZ_BUILD)/ (the library is compiled again there by clang, with the
# same flags; no object of build/ is reused), then each run FUZZ_SECONDS
# seconds on its seeds; what it finds goes to tests/fuzz/regress/NAME/.
# fuzz-regress: the same targets linked by $(CC) with tests/fuzz/driver.c
# into $(BUILD)/fuzz/ replay the seeds and the kept crashers. Those are
# part of `all`, so `make asan` builds them with the sanitizers too.
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_HDRS    := tests/fuzz/fuzz.h tests/fuzz/tsa_ca.h $(wildcard include/*.h)
FUZZ_DRIVERS := $(addprefix $(BUILD)/fuzz/fuzz_,$(FUZZ_NAMES))

.PHONY: fuzz-regress fuzz-targets fuzz-clean
.SECONDARY: $(addsuffix .o,$(FUZZ_DRIVERS)) $(BUILD)/fuzz/driver.o

all: $(FUZZ_DRIVERS)

fuzz: deps
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) HARDEN="-fstack-protector-strong" \
		OPT="-O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
		fuzz-targets
	tests/fuzz/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-targets: $(addprefix $(BUILD)/fuzz_,$(FUZZ_NAMES))

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_HDRS) $(BUILD)/libdaemon.a $(BUILD)/libcore.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< \
		$(BUILD)/libdaemon.a $(BUILD)/libcore.a $(LIBS)

fuzz-regress: $(FUZZ_DRIVERS)
	tests/fuzz/regress.sh $(BUILD)

$(BUILD)/fuzz:
	mkdir -p $@

$(BUILD)/fuzz/%.o: tests/fuzz/%.c $(FUZZ_HDRS) | $(BUILD)/fuzz
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/fuzz_%.o $(BUILD)/fuzz/driver.o \
		$(BUILD)/libdaemon.a $(BUILD)/libcore.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

clean: fuzz-clean

# Pre-release crash and I/O-error torture (integrity.md section 11, D1 and
# D3): the systematic sweep of `make check` plus random fault points and
# random-time kill -9 chains: 3,500 trials, about 1,000 of them kill
# chains (25-30 minutes on 2 cores).
.PHONY: torture
torture: deps
	$(MAKE) all
	SUNARCHIVE_TORTURE_TRIALS=$${SUNARCHIVE_TORTURE_TRIALS:-3500} \
		python3 tests/run.py --build $(BUILD) --only e2e -k test_torture
