# journalagent — build, install and test.
#   make                       build everything into build/
#   make install DESTDIR=ROOT  install into a root filesystem and enable the units
#   make check                 unit tests (plain and ASan/UBSan) + integration tests under real systemd
#   make check-unit            unit tests only
#   make check-output          -o MODE output against journalctl (needs systemd-journal-remote, jq)

PREFIX     ?= /usr
BINDIR     ?= $(PREFIX)/bin
# The shim's path is a public name (images built for the prior art COPY it there): /usr/lib.
SHIMDIR    ?= $(PREFIX)/lib
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
VERSION    := 0.1.0

CC         ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS     ?= -O2 -g

# Required flags: users may change -O/-g through CFLAGS, never these.
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wimplicit-fallthrough -Wwrite-strings -fstack-protector-strong \
	-D_FORTIFY_SOURCE=2 -D_GNU_SOURCE -Icommon
LIBSYSTEMD_VERSION := $(shell $(PKG_CONFIG) --modversion libsystemd 2>/dev/null | cut -d. -f1)
ifeq ($(LIBSYSTEMD_VERSION),)
$(error libsystemd not found by pkg-config: install libsystemd-dev (Debian) or systemd-devel (Fedora))
endif
override CPPFLAGS += -DLIBSYSTEMD_VERSION=$(LIBSYSTEMD_VERSION) -DVERSION='"$(VERSION)"' \
	-DSHIM_PATH='"$(SHIMDIR)/libjournalagent_interceptor.so"'
SYSTEMD_LIBS := $(shell $(PKG_CONFIG) --libs libsystemd)
override LDFLAGS += -Wl,-z,relro,-z,now

B := build
COMMON_SRC := common/protocol.c common/fdpass.c
LOG_SRC    := common/log.c
SHIM_SRC   := preload/interceptor.c preload/saved_fds.c preload/deposit.c
BROKER_SRC := broker/main.c broker/store.c broker/server.c
CLIENT_SRC := client/main.c client/filters.c client/pid1_start.c client/broker_client.c client/json_output.c client/cursor_file.c \
	client/output_format.c client/text_output.c client/text_format.c client/export_output.c \
	client/output_writer.c client/forwarder.c client/options.c
ATTACH_SRC := client/attach.c client/broker_client.c
BOOT_SRC   := bootstrap/main.c

PROGRAMS := $(B)/journalagent-broker $(B)/journalagent $(B)/journalagent-attach \
	$(B)/systemd-bootstrap
SHIM     := $(B)/libjournalagent_interceptor.so

all: $(PROGRAMS) $(SHIM)

$(B)/pie/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIE -MMD -MP -c -o $@ $<

$(B)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c -o $@ $<

pie = $(patsubst %.c,$(B)/pie/%.o,$(1))
pic = $(patsubst %.c,$(B)/pic/%.o,$(1))

$(B)/journalagent-broker: $(call pie,$(BROKER_SRC) $(COMMON_SRC) $(LOG_SRC))
	$(CC) $(CFLAGS) -pie $(LDFLAGS) -o $@ $^ $(SYSTEMD_LIBS)

$(B)/journalagent: $(call pie,$(CLIENT_SRC) $(COMMON_SRC) $(LOG_SRC))
	$(CC) $(CFLAGS) -pie $(LDFLAGS) -o $@ $^ $(SYSTEMD_LIBS)

$(B)/journalagent-attach: $(call pie,$(ATTACH_SRC) $(COMMON_SRC) $(LOG_SRC))
	$(CC) $(CFLAGS) -pie $(LDFLAGS) -o $@ $^

$(B)/systemd-bootstrap: $(call pie,$(BOOT_SRC))
	$(CC) $(CFLAGS) -pie $(LDFLAGS) -o $@ $^

# The shim exports only the interposed symbols (preload/interceptor.map) and links nothing but
# libc and libdl: PID 1 must not pull in anything else.
$(SHIM): $(call pic,$(SHIM_SRC) $(COMMON_SRC)) preload/interceptor.map
	$(CC) $(CFLAGS) -shared $(LDFLAGS) -Wl,--version-script=preload/interceptor.map -o $@ \
		$(call pic,$(SHIM_SRC) $(COMMON_SRC)) -ldl

-include $(shell find $(B) -name '*.d' 2>/dev/null)

UNITS := journalagent-broker.socket journalagent-broker.service journalagent.service \
	journalagent@.service

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHIMDIR) $(DESTDIR)$(UNITDIR)
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(SHIM) $(DESTDIR)$(SHIMDIR)/
	for u in $(UNITS); do install -m 0644 systemd-units/$$u $(DESTDIR)$(UNITDIR)/; done
	# Enable: the symlinks `systemctl enable` would make, from each unit's [Install] WantedBy=.
	# Templates (journalagent@.service) are enabled per instance by the user.
	for u in $(UNITS); do \
		case $$u in *@.*) continue;; esac; \
		for t in $$(sed -n 's/^WantedBy=//p' systemd-units/$$u); do \
			install -d $(DESTDIR)$(SYSCONFDIR)/systemd/system/$$t.wants; \
			ln -sf $(UNITDIR)/$$u $(DESTDIR)$(SYSCONFDIR)/systemd/system/$$t.wants/$$u; \
		done; \
	done

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(PROGRAMS))) $(DESTDIR)$(SHIMDIR)/$(notdir $(SHIM))
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS))
	rm -f $(foreach u,$(UNITS),$(wildcard $(DESTDIR)$(SYSCONFDIR)/systemd/system/*.wants/$(u)))

# ---- tests ------------------------------------------------------------------------------------
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)
UNIT_TESTS := test-protocol test-fdpass test-cursor-file test-json-output test-saved-fds \
	test-text-output test-output-writer
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# Unit tests link the module under test directly (default visibility, so sanitizers work).
test_src_test-protocol     := common/protocol.c
test_src_test-fdpass       := common/protocol.c common/fdpass.c
test_src_test-cursor-file  := client/cursor_file.c
test_src_test-json-output  := client/json_output.c
test_src_test-text-output  := client/text_output.c client/text_format.c client/output_format.c client/export_output.c \
	client/json_output.c
test_src_test-saved-fds    := preload/saved_fds.c
test_src_test-output-writer := client/output_writer.c
test_wrap_test-fdpass      := -Wl,--wrap=sendmsg
test_wrap_test-cursor-file := -Wl,--wrap=pwrite
test_wrap_test-output-writer := -Wl,--wrap=write

define unit_test
$(B)/test/$(1): test/unit/$(1).c $$(test_src_$(1)) $$(wildcard common/*.h client/*.h preload/*.h test/unit/*.h)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) -Wno-missing-prototypes -Iclient -Ipreload -o $$@ $$< $$(test_src_$(1)) $$(test_wrap_$(1)) $$(CMOCKA_LIBS) $$(SYSTEMD_LIBS)
$(B)/test-san/$(1): test/unit/$(1).c $$(test_src_$(1)) $$(wildcard common/*.h client/*.h preload/*.h test/unit/*.h)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) $(SAN_FLAGS) -Wno-missing-prototypes -Iclient -Ipreload -o $$@ $$< $$(test_src_$(1)) $$(test_wrap_$(1)) $$(CMOCKA_LIBS) $$(SYSTEMD_LIBS)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_test,$(t))))

check-unit: $(addprefix $(B)/test/,$(UNIT_TESTS)) $(addprefix $(B)/test-san/,$(UNIT_TESTS))
	@set -e; for t in $^; do echo "== $$t"; $$t; done

# libFuzzer targets (clang): each runs for FUZZ_SECONDS on a scratch copy of its seed corpus in
# test/fuzz/corpus/<target>/, so new inputs land in build/fuzz/corpus/, crashes in build/fuzz/.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 20
FUZZ_TARGETS := fuzz-protocol fuzz-cursor fuzz-json-value
FUZZ_FLAGS   := -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
fuzz_src_fuzz-protocol := common/protocol.c
fuzz_src_fuzz-cursor   := client/cursor_file.c
fuzz_src_fuzz-json-value := client/json_output.c

define fuzz_target
$(B)/fuzz/$(1): test/fuzz/$(1).c $$(fuzz_src_$(1)) $$(wildcard common/*.h client/*.h)
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) $$(CPPFLAGS) $$(CFLAGS) $(FUZZ_FLAGS) -Iclient -o $$@ $$< $$(fuzz_src_$(1)) $(SYSTEMD_LIBS)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_target,$(t))))

fuzz: $(addprefix $(B)/fuzz/,$(FUZZ_TARGETS))
	@set -e; for t in $(FUZZ_TARGETS); do \
		rm -rf $(B)/fuzz/corpus/$$t; mkdir -p $(B)/fuzz/corpus/$$t; \
		cp test/fuzz/corpus/$$t/* $(B)/fuzz/corpus/$$t/; \
		echo "== $$t ($(FUZZ_SECONDS)s)"; \
		if ! $(B)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 \
			-artifact_prefix=$(B)/fuzz/$$t- $(B)/fuzz/corpus/$$t >$(B)/fuzz/$$t.log 2>&1; then \
			tail -n 60 $(B)/fuzz/$$t.log; echo "FAIL $$t: see $(B)/fuzz/$$t.log"; exit 1; \
		fi; \
		grep -E '^(Done|stat::number_of_executed_units)' $(B)/fuzz/$$t.log; \
	done

# journalagent -o MODE against journalctl -o MODE on a journal file made by systemd-journal-remote.
check-output: all
	test/output/run.sh

check-integration: all
	test/integration/run.sh
	test/integration/run-forwarder.sh

check: check-format check-unit fuzz check-output check-integration check-e2e

# Boots a demo container and shows its journal arriving on its stdout (root, systemd-nspawn).
demo: all
	test/demo.sh

fmt:
	clang-format -i $$(git ls-files '*.c' '*.h')

# The committed .clang-format must leave every file as it is.
check-format:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(B)

.PHONY: demo check-format all install uninstall check check-unit check-integration check-output fuzz fmt clean

# A misbehaving client for the integration tests (copied into the test containers).
$(B)/test/ja-peer: test/tools/ja-peer.c $(COMMON_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -o $@ $^

check-integration: $(B)/test/ja-peer

# End-to-end tests on real container managers: the image from docker/Dockerfile on Debian
# bullseye, bookworm and trixie (systemd 247, 252, 257) under Docker Engine (default seccomp, no
# --privileged), Podman (runc) and systemd-nspawn. Needs root, a running Docker daemon
# (test/e2e/start-dockerd.sh starts one), podman, runc, systemd-container, debootstrap, jq.
# JA_E2E_ENGINES / JA_E2E_SUITES narrow the matrix; see test/e2e/run.sh.
check-e2e:
	test/e2e/run.sh

.PHONY: check-e2e

# Safety suite (test/safety/run.sh): PID 1 against a hostile or absent broker, hostile peers and
# load, fd leaks, the broker and the forwarder under valgrind. Root, systemd-nspawn, ~3.5 minutes.
# Its tools are copied into the test containers: ja-load (load, idle and slow clients, backlog
# filler) and ja-hostile-broker (a "broker" that never accepts, or accepts and never reads).
# ja-delay-sendmsg.so (LD_PRELOAD) delays a client's request past the broker's idle timeout.
SAFETY_TOOLS := $(B)/test/ja-load $(B)/test/ja-hostile-broker $(B)/test/ja-delay-sendmsg.so

$(B)/test/ja-load: test/tools/ja-load.c $(COMMON_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $^

$(B)/test/ja-hostile-broker: test/tools/ja-hostile-broker.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $^

$(B)/test/ja-delay-sendmsg.so: test/tools/ja-delay-sendmsg.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ $^ -ldl

check-safety: all $(B)/test/ja-peer $(SAFETY_TOOLS)
	test/safety/run.sh

check: check-safety

.PHONY: check-safety

# Reliability suite (test/reliability/faults.sh): kills, restarts, reload/reexec, journald restart,
# OOM, backpressure and poweroff during 20,000-line bursts, counting every line on the container's
# stdout; systemd 252 and 257 under systemd-nspawn and Docker. Root; ~11 minutes.
check-reliability: all
	test/reliability/faults.sh

check: check-reliability

.PHONY: check-reliability

# ---- benchmarks -------------------------------------------------------------------------------
# make bench (root, systemd-nspawn, valgrind, python3, jq; ~10 minutes): journalagent against
# journalctl and a floor program; prints the table, writes bench/results.md (and the raw samples,
# bench/results.jsonl). See bench/run.sh. (ja-peer: test/integration/lib.sh stages it.)
BENCH_TOOLS := $(B)/bench/floor $(B)/bench/loggen $(B)/bench/pipe-stamp $(B)/bench/fetch-load

$(B)/bench/floor $(B)/bench/loggen: $(B)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIE -pie $(LDFLAGS) -o $@ $< $(SYSTEMD_LIBS)

$(B)/bench/pipe-stamp: bench/pipe-stamp.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIE -pie $(LDFLAGS) -o $@ $<

$(B)/bench/fetch-load: bench/fetch-load.c $(COMMON_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIE -pie $(LDFLAGS) -o $@ $^ -lpthread

bench: all $(B)/test/ja-peer $(BENCH_TOOLS)
	bench/run.sh

.PHONY: bench
