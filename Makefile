# smx - softmax theory-verification workbench.
#   make            build libsmx, the programs and the tests
#   make test       run every test (the command CI runs); SANITIZE=1 for ASan + UBSan
#   make figures    every figure (quick profile; PROFILE=paper for the papers' sizes)
#   make run-NAME / fig-NAME / bench / install PREFIX=... / clean
# Missing Debian packages are installed with apt-get when run as root.

PREFIX   ?= /usr/local
PROFILE  ?= quick
SANITIZE ?= 0
CC       ?= cc
CFLAGS   ?= -O2 -g

BUILD ?= build
OBJ   := $(BUILD)/obj$(if $(filter 1,$(SANITIZE)),-san)
BIN   := $(BUILD)/bin$(if $(filter 1,$(SANITIZE)),-san)
TBIN  := $(BUILD)/tests$(if $(filter 1,$(SANITIZE)),-san)
DATA  := data/$(PROFILE)
FIGS  := figures
LIB   := $(OBJ)/libsmx.a
EXPLIB:= $(OBJ)/libsmxexp.a

DEB_PKGS := pkg-config libgsl-dev libmpfr-dev libgmp-dev libopenblas-dev liblapacke-dev libglpk-dev gnuplot-nox \
            libsleef-dev parallel
DEPS_STAMP := $(BUILD)/.deps-ok

GIT_COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
SAN_ON := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SAN_FLAGS := $(if $(filter 1,$(SANITIZE)),$(SAN_ON))

# recursive (=) so pkg-config runs after the dependency check has installed it
SMX_CFLAGS = -std=c11 -Wall -Wextra -D_GNU_SOURCE -fopenmp $(SAN_FLAGS) \
             $(shell pkg-config --cflags gsl mpfr 2>/dev/null) -Inumerics -Isolvers -Iexperiments
# One CBLAS (OpenBLAS, also behind LAPACKE); GLPK has no .pc file on Debian.
SMX_LIBS   = $(shell pkg-config --libs-only-L gsl 2>/dev/null) -lgsl -llapacke -lopenblas -lglpk -lsleef -lmpfr -lgmp -lm \
             -fopenmp $(SAN_FLAGS)

LIB_SRCS  := $(wildcard numerics/*.c solvers/*.c)
LIB_OBJS  := $(patsubst %.c,$(OBJ)/%.o,$(LIB_SRCS))
# experiments/NAME.c is a program's main; experiments/NAME_*.c are its modules;
# experiments/common/*.c is experiment code shared by several programs (linked into every program).
EXP_COMMON:= $(wildcard experiments/common/*.c)
EXP_MODS  := $(wildcard experiments/*_*.c) $(EXP_COMMON)
EXP_MAINS := $(filter-out $(EXP_MODS),$(wildcard experiments/*.c))
PROG_NAMES:= $(patsubst experiments/%.c,%,$(EXP_MAINS))
prog_bin   = $(BIN)/$(if $(filter smx,$(1)),smx,smx-$(1))
PROGS     := $(foreach p,$(PROG_NAMES),$(call prog_bin,$(p)))
TEST_SRCS := $(wildcard tests/t-*.c)
TESTS     := $(patsubst tests/%.c,$(TBIN)/%,$(TEST_SRCS))
HEADERS   := $(wildcard numerics/*.h solvers/*.h)
EXP_HEADERS := $(wildcard experiments/*.h experiments/common/*.h)

.PHONY: all test figures figures-all bench install uninstall clean deps progs FORCE
.DELETE_ON_ERROR:
.SECONDARY:

all: progs $(TESTS)
progs: $(PROGS)

deps: $(DEPS_STAMP)
$(DEPS_STAMP):
	@sh tests/deps.sh $(DEB_PKGS)
	@mkdir -p $(BUILD) && touch $@

$(OBJ)/%.o: %.c $(HEADERS) $(EXP_HEADERS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SMX_CFLAGS) -c -o $@ $<

# The commit in the data's metadata: only tsv.o embeds it, rebuilt whenever HEAD changes
# (the stamp is rewritten only when its content differs, so an unchanged HEAD rebuilds nothing).
COMMIT_STAMP := $(BUILD)/.git-commit
$(COMMIT_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(GIT_COMMIT)' | cmp -s - $@ || echo '$(GIT_COMMIT)' > $@
$(OBJ)/numerics/tsv.o: numerics/tsv.c $(HEADERS) $(COMMIT_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SMX_CFLAGS) -DSMX_GIT_COMMIT='"$(GIT_COMMIT)"' -c -o $@ $<
FORCE:

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(EXPLIB): $(patsubst %.c,$(OBJ)/%.o,$(EXP_MODS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

define PROG_RULE
$(call prog_bin,$(1)): $(OBJ)/experiments/$(1).o $(patsubst %.c,$(OBJ)/%.o,$(filter experiments/$(1)_%.c,$(EXP_MODS)) \
    $(EXP_COMMON)) $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) -o $$@ $$(filter %.o,$$^) $(LIB) $$(SMX_LIBS)
endef
$(foreach p,$(PROG_NAMES),$(eval $(call PROG_RULE,$(p))))

$(TBIN)/%: tests/%.c tests/tap.h $(LIB) $(EXPLIB) $(HEADERS) $(EXP_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SMX_CFLAGS) -Itests -o $@ $< $(EXPLIB) $(LIB) $(SMX_LIBS)

# With SANITIZE=1 the programs the shell tests run are sanitized too (build/bin-san).
test: $(TESTS)
	@$(MAKE) --no-print-directory progs
	@SMX_SANITIZE=$(SANITIZE) SMX_BUILD=$(BUILD) sh tests/run.sh $(TBIN) $(BIN)

# ---- figures: each experiment adds FIGURES and data rules in experiments/NAME.mk ----
FIGURES :=
GNUPLOT := gnuplot
# plots/NAME.gp draws figures/NAME.{png,pdf} from $(DATA); it loads plots/common.gp.
$(FIGS)/%.png: plots/%.gp plots/common.gp
	@mkdir -p $(FIGS)
	$(GNUPLOT) -e "datadir='$(DATA)'; term='png'; out='$@'" $<
$(FIGS)/%.pdf: plots/%.gp plots/common.gp
	@mkdir -p $(FIGS)
	$(GNUPLOT) -e "datadir='$(DATA)'; term='pdf'; out='$@'" $<
fig-%: $(FIGS)/%.png $(FIGS)/%.pdf ;
# $(call fig_pair,NAME): the two files of figure NAME, for a .mk file's dependency lines.
fig_pair = $(foreach f,$(1),$(FIGS)/$(f).png $(FIGS)/$(f).pdf)

BENCHES :=
include $(wildcard experiments/*.mk)

# `make figures` fills the machine by itself: unless the user gave -j, it re-runs make with one job per core,
# and every run single-threaded (OMP / OpenBLAS threads 1; the data are the same bytes for any thread count),
# so the independent runs share the cores without oversubscription. `make -jN figures` keeps the user's N.
NPROC := $(shell nproc 2>/dev/null || echo 2)
figures: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory $(if $(findstring jobserver,$(MAKEFLAGS)),,-j$(NPROC)) \
	    OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} OPENBLAS_NUM_THREADS=$${OPENBLAS_NUM_THREADS:-1} figures-all
figures-all: $(call fig_pair,$(FIGURES))
	@echo "figures: $(words $(FIGURES)) figures in $(FIGS)/ (profile $(PROFILE))"

bench: $(BENCHES)

# GNU conventions: PREFIX (alias prefix), DESTDIR staged installs. Headers go to INCLUDEDIR/smx and are
# included as <smx/NAME.h> (Cflags -I INCLUDEDIR); the umbrella is <smx/smx.h>. cli.h (the programs'
# option helpers, which exit) is not part of the library's interface and is not installed.
prefix     ?= $(PREFIX)
bindir     ?= $(prefix)/bin
libdir     ?= $(prefix)/lib
includedir ?= $(prefix)/include
datadir    ?= $(prefix)/share
INTERNAL_HEADERS := numerics/cli.h numerics/kernels_inst.h numerics/kernels_tmpl.h numerics/rreg.h
PUBLIC_HEADERS   := $(filter-out $(INTERNAL_HEADERS),$(HEADERS))
SMX_VERSION_STR   = $(shell sed -n 's/.*SMX_VERSION "\(.*\)"/\1/p' numerics/smx.h)

install: progs $(LIB)
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(libdir)/pkgconfig $(DESTDIR)$(includedir)/smx \
	    $(DESTDIR)$(datadir)/smx/plots
	install -m 755 $(PROGS) $(DESTDIR)$(bindir)
	install -m 644 $(LIB) $(DESTDIR)$(libdir)
	install -m 644 $(PUBLIC_HEADERS) $(DESTDIR)$(includedir)/smx
	install -m 644 plots/*.gp $(DESTDIR)$(datadir)/smx/plots
	sed -e 's|@PREFIX@|$(prefix)|' -e 's|@LIBDIR@|$(libdir)|' -e 's|@INCLUDEDIR@|$(includedir)|' \
	    -e 's|@VERSION@|$(SMX_VERSION_STR)|' numerics/smx.pc.in > $(DESTDIR)$(libdir)/pkgconfig/smx.pc

uninstall:
	rm -f $(foreach p,$(notdir $(PROGS)),$(DESTDIR)$(bindir)/$(p)) $(DESTDIR)$(libdir)/libsmx.a \
	    $(DESTDIR)$(libdir)/pkgconfig/smx.pc
	rm -rf $(DESTDIR)$(includedir)/smx $(DESTDIR)$(datadir)/smx

clean:
	rm -rf $(BUILD) data figures

# ---- hardening (issue 9): fuzz targets and valgrind ----
# make fuzz: each tests/fuzz/fuzz-NAME.c built with clang's libFuzzer + ASan + UBSan and run for
# FUZZ_TIME seconds on tests/fuzz/corpus-NAME (new inputs in build/fuzz/corpus-NAME; a crash is
# saved as tests/fuzz/corpus-NAME/crash-*, which make test then replays: tests/t-fuzz.c).
FUZZ_TIME ?= 60
FUZZ_CC   ?= clang
FUZZERS   := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz-*.c))
# The fuzzers link a clang build of the library and the experiments' modules (ASan + UBSan, coverage),
# so a target can call any reader; the archive pulls in only the objects a target uses.
FUZZ_FLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -fopenmp -fsanitize=address,undefined -Wno-pass-failed \
              $(shell pkg-config --cflags gsl mpfr 2>/dev/null) -Inumerics -Isolvers -Iexperiments
FUZZ_OBJS  := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(LIB_SRCS) $(filter-out experiments/bench_%,$(EXP_MODS)))
$(BUILD)/fuzz/obj/%.o: %.c $(HEADERS) $(EXP_HEADERS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
$(BUILD)/fuzz/libsmxfuzz.a: $(FUZZ_OBJS)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(BUILD)/fuzz/libsmxfuzz.a
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/fuzz/libsmxfuzz.a \
	    $(shell pkg-config --libs-only-L gsl 2>/dev/null) -lgsl -llapacke -lopenblas -lglpk -lsleef -lmpfr -lgmp -lm
.PHONY: fuzz memcheck
fuzz: $(FUZZERS)
	@for f in $(FUZZERS); do n=$${f##*/fuzz-}; mkdir -p $(BUILD)/fuzz/corpus-$$n; \
	  echo "fuzz-$$n: $(FUZZ_TIME) s"; \
	  $$f -max_total_time=$(FUZZ_TIME) -artifact_prefix=tests/fuzz/corpus-$$n/crash- \
	      $(BUILD)/fuzz/corpus-$$n tests/fuzz/corpus-$$n 2>&1 | tail -1 || exit 1; done
# make memcheck: the small cases of the smx calculator and the hardening paths under valgrind.
memcheck: progs $(TBIN)/t-tsv $(TBIN)/t-ckpt $(TBIN)/t-rng
	@sh tests/memcheck.sh $(BIN) $(TBIN)
