package pgstore

import (
	"context"
	"testing"
	"time"

	"github.com/wasql/wasql/catalog"
	"github.com/wasql/wasql/internal/pgtest"
)

// BenchmarkCreateOrReplace: one OR REPLACE (function row, module, stub, log, NOTIFY, commit,
// delivery to this store's subscribers), on a loopback PostgreSQL with fsync off.
func BenchmarkCreateOrReplace(b *testing.B) {
	s := benchStore(b)
	fn := testFn("f", "bigint")
	mod := module("f")
	for b.Loop() {
		if _, err := s.Create(context.Background(), fn, mod, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGet: one Get of a function by key.
func BenchmarkGet(b *testing.B) {
	s := benchStore(b)
	fn := testFn("f", "bigint")
	if _, err := s.Create(context.Background(), fn, module("f"), false); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Get(context.Background(), fn.Key()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPropagation: from one store's OR REPLACE returning to another store's subscriber
// hearing of it, through NOTIFY.
func BenchmarkPropagation(b *testing.B) {
	url := pgtest.Start(b)
	w, r := benchOpen(b, url), benchOpen(b, url)
	heard := make(chan int64, 1)
	defer r.Subscribe(func(c catalog.Change) {
		select {
		case heard <- c.Function.Version:
		default:
		}
	})()
	fn := testFn("f", "bigint")
	mod := module("f")
	for b.Loop() {
		got, err := w.Create(context.Background(), fn, mod, true)
		if err != nil {
			b.Fatal(err)
		}
		for {
			select {
			case v := <-heard:
				if v < got.Version {
					continue
				}
			case <-time.After(5 * time.Second):
				b.Fatal("not heard in 5s")
			}
			break
		}
	}
}

func benchStore(b *testing.B) *Store { return benchOpen(b, pgtest.Start(b)) }

func benchOpen(b *testing.B, url string) *Store {
	s, err := Open(context.Background(), url, quiet)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}
