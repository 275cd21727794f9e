package udf_test

import (
	"context"
	"fmt"
	"os"

	"github.com/wasql/wasql/udf"
)

// Load a numeric function from a five-line WAT module and run it over a batch.
func Example() {
	ctx := context.Background()
	rt, err := udf.NewRuntime(ctx, udf.NewConfig())
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)

	module, _ := os.ReadFile("testdata/numeric.wasm") // (func (export "add") (param i64 i64) (result i64) ...)
	add, err := rt.Load(ctx, udf.Definition{Name: "add", Module: module, Export: "add",
		Args: []udf.Type{udf.Bigint, udf.Bigint}, Result: udf.Bigint})
	if err != nil {
		panic(err)
	}
	a := udf.Column{Type: udf.Bigint, Ints: []int64{1, 2, 3}}
	b := udf.Column{Type: udf.Bigint, Ints: []int64{10, 20, 30}, Nulls: []bool{false, true, false}}
	sum, err := add.Eval(ctx, 3, a, b) // one guest call for the batch
	if err != nil {
		panic(err)
	}
	for i := range 3 {
		fmt.Println(sum.Format(i))
	}
	// Output:
	// 11
	// NULL
	// 33
}
