module github.com/wasql/wasql/examples/webparse

go 1.24

require github.com/wasql/wasql/sdk/go v0.0.0

replace github.com/wasql/wasql/sdk/go => ../../sdk/go
