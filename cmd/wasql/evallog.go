package main

import (
	"context"
	"fmt"
	"io"

	"github.com/wasql/wasql/udf"
)

// withGuestLog makes wasql eval print the guest's stdout/stderr lines ("FN: line", sanitized and
// bounded as on the wires) to w; the returned function ends the log (the dropped-lines count).
func withGuestLog(ctx context.Context, w io.Writer) (context.Context, func()) {
	l := udf.NewLog(func(msg string) func(string) {
		fmt.Fprintln(w, msg)
		return nil
	})
	return udf.WithLog(ctx, l), l.Flush
}
