# Cloud Image Gallery: `make` builds bin/memcache, bin/frontend and bin/worker,
# `make test` installs what is missing, builds and runs every test.

CC ?= cc
O ?= build
BIN ?= bin
WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
OPT ?= -O2
DEBUG ?= -g
SAN ?=
PKGS = libmicrohttpd libcurl mysqlclient libcjson libsodium libutf8proc
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(OPT) $(DEBUG) $(SAN) -MMD -MP -I. $(PKG_CFLAGS)
LDLIBS = $(PKG_LIBS) -lb64 -lnettle -lzxcvbn -lutf8proc -lpthread -lm
# libvips only where images are decoded: the worker's image operations, their
# tests and their benchmark.
VIPS_CFLAGS := $(shell pkg-config --cflags vips 2>/dev/null)
VIPS_LIBS := $(shell pkg-config --libs vips 2>/dev/null)

COMMON = common/b64.o common/buf.o common/clock.o common/log.o common/config.o common/db.o \
	common/http.o common/num.o common/server.o common/guard.o
COMMON += common/syncgroup.o
# Not in COMMON: the test harness has a url_encode of its own.
URL = common/url.o
# The domain, shared by the front end and (soon) the worker; no HTTP in it.
CORE = core/blob.o core/blob_disk.o core/cache_client.o core/cache_config.o core/catalog.o \
	core/images.o core/imagetype.o core/invalidations.o core/key.o core/orphans.o \
	core/outcome.o core/stripes.o core/jobs.o core/calc.o core/variants.o core/enhance_job.o \
	core/password.o core/token.o core/users.o core/sessions.o
CORE += core/hashtags.o core/captions.o
CORE += core/search_terms.o core/search_index.o core/search.o
MEMCACHE = memcache/cache.o memcache/slab.o memcache/cache_sql.o memcache/stats_timer.o memcache/api.o \
	memcache/request.o core/cache_config.o
FRONTEND = frontend/api_account.o frontend/auth.o frontend/page_account.o frontend/page_profile.o \
	frontend/api_cache.o frontend/api_images.o frontend/csrf.o frontend/form.o frontend/origin.o \
	frontend/page.o frontend/page_cache.o frontend/page_files.o frontend/page_images.o \
	frontend/problem.o frontend/reply.o frontend/request.o frontend/router.o frontend/tpl.o \
	frontend/upload.o frontend/api_jobs.o frontend/job_requests.o frontend/job_wait.o \
	frontend/page_jobs.o frontend/heavy.o frontend/page_search.o
FRONTEND += frontend/page_delete.o
FRONTEND += frontend/image_json.o frontend/caption_edit.o frontend/caption_view.o frontend/page_tags.o
FRONTEND += frontend/offload.o
IMAGING = worker/imaging.o worker/thumbnail.o worker/enhance.o common/buf.o
WORKER = worker/pool.o worker/kinds.o worker/isolate.o worker/job_log.o worker/job_calc.o \
	worker/job_mail.o worker/job_test.o worker/image_job.o worker/job_thumbnail.o \
	worker/job_enhance.o worker/imaging.o worker/thumbnail.o worker/enhance.o
TEST_LIB = tests/harness.o

PROGRAMS = $(BIN)/memcache $(BIN)/frontend $(BIN)/worker
TESTS = $(BIN)/tests/unit_cache $(BIN)/tests/unit_tpl $(BIN)/tests/unit_validate \
	$(BIN)/tests/unit_blob_disk $(BIN)/tests/unit_fuzz_replay $(BIN)/tests/unit_imaging \
	$(BIN)/tests/unit_layout $(BIN)/tests/unit_calc \
	$(BIN)/tests/e2e_memcache $(BIN)/tests/e2e_cache_client $(BIN)/tests/e2e_start \
	$(BIN)/tests/e2e_frontend $(BIN)/tests/e2e_hostile \
	$(BIN)/tests/e2e_secure $(BIN)/tests/e2e_faults $(BIN)/tests/e2e_migrate \
	$(BIN)/tests/e2e_jobs $(BIN)/tests/e2e_worker $(BIN)/tests/e2e_thumbs $(BIN)/tests/e2e_jobs_api \
	$(BIN)/tests/e2e_lockout $(BIN)/tests/e2e_doubt
# Not a test: a helper program the tests start.
TESTS += $(BIN)/tests/faultproxy
TESTS += $(BIN)/tests/e2e_keys
TESTS += $(BIN)/tests/unit_syncgroup
TESTS += $(BIN)/tests/e2e_accounts
TESTS += $(BIN)/tests/e2e_delete
TESTS += $(BIN)/tests/unit_hashtags $(BIN)/tests/e2e_captions
TESTS += $(BIN)/tests/e2e_throttle
TESTS += $(BIN)/tests/e2e_search $(BIN)/tests/unit_search

.PHONY: all tests deps test-deps test check-layout asan tsan valgrind fuzz fuzz-targets \
	bench-memcache bench-worker bench bench-accounts bench-search soak clean
all: $(PROGRAMS)
tests: $(TESTS)

objs = $(addprefix $(O)/,$(1))

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BIN)/memcache: $(call objs,memcache/main.o $(MEMCACHE) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/frontend: $(call objs,frontend/main.o $(FRONTEND) $(CORE) $(COMMON) $(URL))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/worker: $(call objs,worker/main.o $(WORKER) $(CORE) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(VIPS_LIBS)

$(BIN)/tests/unit_cache: $(call objs,tests/unit_cache.o memcache/cache.o memcache/slab.o)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/unit_tpl: $(call objs,tests/unit_tpl.o frontend/tpl.o common/buf.o)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/unit_validate: $(call objs,tests/unit_validate.o core/imagetype.o core/key.o common/num.o common/url.o)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/unit_blob_disk: $(call objs,tests/unit_blob_disk.o core/blob.o core/blob_disk.o common/buf.o \
	common/syncgroup.o)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(O)/worker/%.o $(O)/tests/unit_imaging.o $(O)/bench/thumb_bench.o: CFLAGS += $(VIPS_CFLAGS)

$(BIN)/tests/unit_imaging: $(call objs,tests/unit_imaging.o $(IMAGING))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(VIPS_LIBS) -lcmocka -lm

$(BIN)/tests/unit_layout: $(call objs,tests/unit_layout.o common/buf.o)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/unit_syncgroup: $(call objs,tests/unit_syncgroup.o common/syncgroup.o)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/unit_calc: $(call objs,tests/unit_calc.o core/calc.o common/clock.o common/buf.o)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/e2e_memcache: $(call objs,tests/e2e_memcache.o $(TEST_LIB) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/e2e_cache_client: $(call objs,tests/e2e_cache_client.o $(TEST_LIB) \
		core/cache_client.o $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/e2e_start: $(call objs,tests/e2e_start.o $(TEST_LIB) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/e2e_frontend: $(call objs,tests/e2e_frontend.o $(TEST_LIB) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/e2e_keys: $(call objs,tests/e2e_keys.o $(TEST_LIB) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/e2e_hostile: $(call objs,tests/e2e_hostile.o $(TEST_LIB) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/e2e_lockout: $(call objs,tests/e2e_lockout.o $(TEST_LIB) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/e2e_secure: $(call objs,tests/e2e_secure.o $(TEST_LIB) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/e2e_faults: $(call objs,tests/e2e_faults.o $(TEST_LIB) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/e2e_migrate: $(call objs,tests/e2e_migrate.o $(TEST_LIB) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/e2e_jobs: $(call objs,tests/e2e_jobs.o $(TEST_LIB) core/jobs.o $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/e2e_worker: $(call objs,tests/e2e_worker.o $(TEST_LIB) core/jobs.o $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/e2e_thumbs: $(call objs,tests/e2e_thumbs.o $(TEST_LIB) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/e2e_jobs_api: $(call objs,tests/e2e_jobs_api.o $(TEST_LIB) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/faultproxy: $(call objs,tests/faultproxy.o)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^

$(BIN)/tests/e2e_doubt: $(call objs,tests/e2e_doubt.o $(TEST_LIB) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/e2e_accounts: $(call objs,tests/e2e_accounts.o $(TEST_LIB) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/e2e_delete: $(call objs,tests/e2e_delete.o $(TEST_LIB) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/unit_hashtags: $(call objs,tests/unit_hashtags.o core/hashtags.o core/captions.o \
		core/search_index.o core/search_terms.o $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/e2e_captions: $(call objs,tests/e2e_captions.o $(TEST_LIB) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/e2e_throttle: $(call objs,tests/e2e_throttle.o $(TEST_LIB) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

SEARCH_CORE = core/hashtags.o core/search_terms.o core/search.o core/users.o core/password.o \
	core/token.o
$(BIN)/tests/e2e_search: $(call objs,tests/e2e_search.o $(TEST_LIB) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BIN)/tests/unit_search: $(call objs,tests/unit_search.o $(SEARCH_CORE) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

deps:
	scripts/deps.sh

test-deps: deps
	scripts/test-deps.sh

test: test-deps check-layout
	$(MAKE) all tests
	tests/run.sh $(BIN)

# The layout DESIGN.md draws: no <microhttpd.h> in core/, no SQL outside core/
# and memcache/cache_sql.c (scripts/check-layout.sh says where).
check-layout:
	scripts/check-layout.sh

# AddressSanitizer and UndefinedBehaviorSanitizer over the whole suite.
asan: test-deps
	$(MAKE) all tests O=build/asan BIN=bin/asan OPT=-O1 \
		SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
	tests/run.sh bin/asan

# ThreadSanitizer over the whole suite, daemons and tests: any report fails the
# run (tests/run.sh reads the daemons' logs). tests/tsan.supp says what it hides.
tsan: test-deps
	$(MAKE) all tests CC=gcc O=build/tsan BIN=bin/tsan OPT=-O1 \
		SAN="-fsanitize=thread -fno-omit-frame-pointer"
	GALLERY_TEST_TSAN=1 tests/run.sh bin/tsan

# Fuzzing: one libFuzzer binary per parser of outside input (tests/fuzz/fuzz.h).
FUZZ_TARGETS = form key sniff tpl memcache_request config auth
FUZZ_TARGETS += hashtags
FUZZ_TARGETS += search
FUZZ_form = frontend/form.o core/imagetype.o common/buf.o
FUZZ_key = core/key.o common/url.o
FUZZ_sniff = core/imagetype.o
FUZZ_tpl = frontend/tpl.o common/buf.o
FUZZ_memcache_request = memcache/request.o
FUZZ_config = common/config.o common/log.o common/clock.o common/num.o
FUZZ_auth = core/token.o
FUZZ_hashtags = core/hashtags.o
FUZZ_search = core/search.o core/search_terms.o core/hashtags.o core/users.o core/password.o \
	core/token.o common/db.o common/buf.o common/num.o common/log.o common/clock.o common/config.o
FUZZ_SECONDS ?= 60
FUZZ_SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

$(BIN)/tests/unit_fuzz_replay: $(call objs,tests/unit_fuzz_replay.o \
		$(patsubst %,tests/fuzz/fuzz_%.o,$(FUZZ_TARGETS)) \
		$(sort $(foreach t,$(FUZZ_TARGETS),$(FUZZ_$(t)))))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(O)/tests/fuzz/libfuzzer_%.o: tests/fuzz/libfuzzer.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DFUZZ_TARGET=fuzz_$*_one -c -o $@ $<

define FUZZ_BINARY
$(BIN)/fuzz_$(1): $(call objs,tests/fuzz/libfuzzer_$(1).o tests/fuzz/fuzz_$(1).o $(FUZZ_$(1)))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) -fsanitize=fuzzer -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_BINARY,$(t))))
fuzz-targets: $(patsubst %,$(BIN)/fuzz_%,$(FUZZ_TARGETS))

# Each target for FUZZ_SECONDS under ASan and UBSan, on a copy of its seeds.
fuzz: deps
	scripts/deps.sh clang libclang-rt-14-dev
	$(MAKE) fuzz-targets CC=clang O=build/fuzz BIN=bin/fuzz OPT=-O1 \
		SAN="-fsanitize=fuzzer-no-link $(FUZZ_SAN)"
	tests/fuzz/run.sh bin/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

$(BIN)/thumb_bench: $(call objs,bench/thumb_bench.o $(IMAGING))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(VIPS_LIBS) -lpthread -lm

$(BIN)/mc_set: $(call objs,bench/mc_set.o)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ -lpthread

$(BIN)/soak_load: $(call objs,bench/soak_load.o common/b64.o common/buf.o)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/search_bench: $(call objs,bench/search_bench.o core/search_terms.o $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The whole suite with both daemons under valgrind's memcheck: a leak or an
# invalid access in either fails the run.
valgrind: test-deps
	scripts/deps.sh valgrind
	$(MAKE) all tests
	GALLERY_TEST_VALGRIND=1 tests/run.sh $(BIN)

bench-memcache: deps
	$(MAKE) all $(BIN)/mc_set
	bench/memcache.sh $(BIN)

# Thumbnails per second of thumbnail_make against vipsthumbnail, enhance time per megapixel.
bench-worker: deps
	scripts/deps.sh libvips-tools lomiri-wallpapers-16.04 bc time
	$(MAKE) $(BIN)/thumb_bench
	bench/worker.sh $(BIN)

bench: deps
	$(MAKE) all
	bench/frontend.sh $(BIN)
	bench/keys.sh $(BIN)
	$(MAKE) bench-accounts

$(BIN)/pwhash_bench: $(call objs,bench/pwhash_bench.o core/password.o)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# Logins per second, one hash's time and memory, read-hit p99 under a login
# flood, reads with a session cookie against without.
bench-accounts: deps
	scripts/deps.sh wrk
	$(MAKE) all $(BIN)/pwhash_bench
	bench/accounts.sh $(BIN)

# Search at 1e6 images: fill time, query p50/p99 against FULLTEXT, uploads with captions.
bench-search: deps
	$(MAKE) all $(BIN)/search_bench
	bench/search.sh $(BIN)

# Ten minutes of mixed load with memcache killed and MariaDB restarted midway.
soak: deps
	$(MAKE) all $(BIN)/soak_load
	bench/soak.sh $(BIN)

clean:
	rm -rf build bin

-include $(shell find $(O) -name '*.d' 2>/dev/null)
