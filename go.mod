module github.com/wasql/wasql

go 1.26.8

require (
	github.com/tetratelabs/wazero v1.12.0
	golang.org/x/sync v0.24.0
)

require golang.org/x/sys v0.44.0 // indirect
