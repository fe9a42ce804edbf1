# The familiar verbs over meson + ninja. `make` leaves build/holdfast.
#   make          build (release-ish: -O2, assertions on)
#   make run      install what is needed, build, start the server
#   make run-pg   the same on the PostgreSQL engine, with a local cluster (./pgdata)
#   make test     install what is needed, build with ASan+UBSan, run every suite
#   make deps     install the Debian packages (idempotent)
#   make bench    in-process core benchmark (docs/BENCHMARKS.md)
#   make valgrind the unit tests under valgrind (memcheck, leaks are errors)
#   make clean

BUILD ?= build
ASAN  ?= build-asan

.PHONY: all deps run run-pg test bench valgrind clean

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)
	@ln -sf src/server/holdfast $(BUILD)/holdfast
	@ln -sf src/tools/bench-core $(BUILD)/bench-core

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized -Db_ndebug=false

deps:
	./scripts/install-deps.sh

run: deps all
	./scripts/run.sh

run-pg: deps all
	./scripts/run-pg.sh

test:
	./scripts/test.sh

bench: all
	./$(BUILD)/bench-core --runs 5

valgrind: all
	meson test -C $(BUILD) --suite unit --print-errorlogs \
	  --wrap='valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect -q'

clean:
	rm -rf $(BUILD) $(ASAN)
