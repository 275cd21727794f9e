# wasql.mk - build wasql functions written in C with wasql.h. Include it from a Makefile:
#
#     include path/to/sdk/c/wasql.mk
#     all: haversine.wasm
#
# and `make` turns each NAME.c into NAME.wasm, a WASI reactor carrying its SQL signatures.
# Needs (Debian 12, Ubuntu): apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32
# With wasi-sdk instead: make CC=<wasi-sdk>/bin/clang WASI_SYSROOT=<wasi-sdk>/share/wasi-sysroot

# The including Makefile's default target: list the modules as its prerequisites.
all:

WASQL_C_SDK := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
CC := clang
WASI_SYSROOT ?= /usr
WASQL_CFLAGS ?= -O2 -std=c11 -Wall -Wextra -Werror
WASQL_LDLIBS ?= -lm

%.wasm: %.c $(WASQL_C_SDK)/wasql.h
	$(CC) --target=wasm32-wasi --sysroot=$(WASI_SYSROOT) -mexec-model=reactor $(WASQL_CFLAGS) \
		-I $(WASQL_C_SDK) -Wl,--strip-debug -o $@ $< $(WASQL_LDLIBS)

.PHONY: clean
clean:
	rm -f *.wasm
