package udf

import (
	"context"
	"testing"
)

func TestValidation(t *testing.T) {
	rt := newRuntime(t, NewConfig().WithMaxModuleBytes(1<<20))
	numeric := fixture(t, "numeric.wasm")
	i64 := []Type{Bigint, Bigint}
	cases := []struct {
		name  string
		def   Definition
		code  string
		parts []string
	}{
		{"not a module", Definition{Module: []byte("hello, world"), Export: "f", Args: i64, Result: Bigint},
			"42P13", []string{"invalid module", "not a WebAssembly binary"}},
		{"truncated", Definition{Module: numeric[:len(numeric)/2], Export: "add", Args: i64, Result: Bigint},
			"42P13", []string{"invalid module"}},
		{"component", Definition{Module: []byte("\x00asm\x0d\x00\x01\x00"), Export: "f", Args: i64, Result: Bigint},
			"42P13", []string{"components are not supported"}},
		{"hostile vector length", Definition{Module: []byte("\x00asm\x01\x00\x00\x00\x02`\xc7\xc7\xc7\x7f\x7f\x7f~~\x7f\x7f\x01\x7f`\x01~\x01~"), Export: "f", Args: i64, Result: Bigint},
			"42P13", []string{"invalid module", "past the end"}},
		{"too large", Definition{Module: make([]byte, 2<<20), Export: "f", Args: i64, Result: Bigint},
			"54000", []string{"above the limit"}},
		{"missing export", Definition{Module: numeric, Export: "sub", Args: i64, Result: Bigint},
			"42P13", []string{`no export "sub"`}},
		{"export not a function", Definition{Module: numeric, Export: "not_a_function", Args: i64, Result: Bigint},
			"42P13", []string{"is a global, not a function"}},
		{"argument type", Definition{Module: numeric, Export: "add", Args: []Type{Bigint, Integer}, Result: Bigint},
			"42P13", []string{"argument 2 is integer, which needs Wasm i32", "(i64, i64) -> i64"}},
		{"result type", Definition{Module: numeric, Export: "add", Args: i64, Result: Double},
			"42P13", []string{"result is double precision, which needs Wasm f64"}},
		{"arity", Definition{Module: numeric, Export: "add", Args: []Type{Bigint}, Result: Bigint},
			"42P13", []string{"takes 2 parameters", "declares 1"}},
		{"text on a scalar export", Definition{Module: numeric, Export: "add", Args: []Type{Text, Bigint}, Result: Bigint},
			"42P13", []string{"text needs the columnar ABI", "wasql_batch_add"}},
		{"called on null input", Definition{Module: numeric, Export: "add", Args: i64, Result: Bigint, OnNull: CalledOnNull},
			"42P13", []string{"CALLED ON NULL INPUT needs the columnar ABI"}},
		{"forbidden import", Definition{Module: fixture(t, "bad_import.wasm"), Export: "f", Args: []Type{Bigint}, Result: Bigint},
			"42P13", []string{"env.launch_missiles", "not allowed"}},
		{"forbidden WASI import", Definition{Module: fixture(t, "bad_wasi.wasm"), Export: "f", Args: []Type{Bigint}, Result: Bigint},
			"42P13", []string{"wasi_snapshot_preview1.path_open"}},
		{"imported memory", Definition{Module: fixture(t, "import_memory.wasm"), Export: "f", Args: []Type{Bigint}, Result: Bigint},
			"42P13", []string{"imports memory env.memory"}},
		{"ABI version", Definition{Module: fixture(t, "abi_v2.wasm"), Export: "f", Args: []Type{Text}, Result: Text},
			"42P13", []string{`targets wasql ABI "v2"`, "supports v1"}},
		{"batch export without marker", Definition{Module: fixture(t, "numeric.wasm"), Export: "f", Args: []Type{Text}, Result: Text},
			"42P13", []string{`no export "f"`}},
		{"threads", Definition{Module: fixture(t, "threads.wasm"), Export: "f", Args: []Type{Bigint}, Result: Bigint},
			"0A000", []string{"threads"}},
		{"memory above the limit", Definition{Module: fixture(t, "big_memory.wasm"), Export: "f", Args: []Type{Bigint}, Result: Bigint},
			"54000", []string{"2048 pages", "above the limit of 1024 pages"}},
		{"_initialize traps", Definition{Module: fixture(t, "init_trap.wasm"), Export: "id", Args: []Type{Bigint}, Result: Bigint},
			"38000", []string{"unreachable", "_initialize"}},
		{"bad result type", Definition{Module: numeric, Export: "add", Args: i64, Result: Type(99)},
			"42P13", []string{"unsupported result type"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.def.Name = "fn"
			_, err := rt.Load(context.Background(), c.def)
			wantError(t, err, c.code, append([]string{"fn: "}, c.parts...)...)
		})
	}
}

func TestOptions(t *testing.T) {
	var d Definition
	for _, o := range [][2]string{{"timeout", "200ms"}, {"memory", "8MB"}, {"fuel", "1_000"}, {"result", "1kB"},
		{"clock", "real"}, {"random", "deterministic"}, {"keep_state", "true"}} {
		if err := d.SetOption(o[0], o[1]); err != nil {
			t.Fatal(err)
		}
	}
	if d.Limits.Timeout.Milliseconds() != 200 || d.Limits.MemoryBytes != 8<<20 || d.Limits.Fuel != 1000 ||
		d.Limits.ResultBytes != 1024 || !d.Clock || d.Random || !d.KeepState {
		t.Fatalf("%+v", d)
	}
	for _, o := range [][2]string{{"timeout", "soon"}, {"memory", "1kB"}, {"fuel", "-1"}, {"clock", "fast"}, {"color", "red"}} {
		wantError(t, d.SetOption(o[0], o[1]), "22023", o[0])
	}
}
