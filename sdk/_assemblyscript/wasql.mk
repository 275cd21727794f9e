# wasql.mk - build a wasql function project written with the AssemblyScript SDK. From its Makefile:
#
#     NAME := luhn
#     include path/to/sdk/assemblyscript/wasql.mk
#
# and `make` runs npm ci in the SDK and the project the first time (the npm registry), then the
# project's build script (wasql-asc), which writes NAME.wasm.
WASQL_AS_SDK := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

all: $(NAME).wasm

$(NAME).wasm: assembly/index.ts package.json $(WASQL_AS_SDK)/assembly/index.ts $(WASQL_AS_SDK)/transform/index.mjs $(WASQL_AS_SDK)/bin/wasql-asc.mjs | node_modules $(WASQL_AS_SDK)/node_modules
	npm run --silent build

$(WASQL_AS_SDK)/node_modules:
	cd $(WASQL_AS_SDK) && npm ci --no-audit --no-fund

node_modules:
	npm ci --no-audit --no-fund

clean:
	rm -f $(NAME).wasm

.PHONY: all clean
