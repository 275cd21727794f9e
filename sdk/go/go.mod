module github.com/wasql/wasql/sdk/go

go 1.24
