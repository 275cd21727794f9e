package proxy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// saltOf starts a SCRAM exchange for user and returns the salt the server sends.
func saltOf(t *testing.T, addr, user string) string {
	t.Helper()
	c := dial(t, addr, map[string]string{"user": user})
	defer c.nc.Close()
	if msg, err := c.fe.Receive(); err != nil {
		t.Fatal(err)
	} else if _, ok := msg.(*pgproto3.AuthenticationSASL); !ok {
		t.Fatalf("got %T", msg)
	}
	c.fe.Send(&pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256", Data: []byte("n,,n=,r=clientnonce")})
	c.fe.Flush()
	msg, err := c.fe.Receive()
	if err != nil {
		t.Fatal(err)
	}
	cont, ok := msg.(*pgproto3.AuthenticationSASLContinue)
	if !ok {
		t.Fatalf("got %T", msg)
	}
	return scramAttr(string(cont.Data), "s")
}

// TestUnknownUserSalt: an unknown user sees the same salt at every attempt, as a known user
// does, and its own (the salt does not tell that the user is unknown).
func TestUnknownUserSalt(t *testing.T) {
	v, err := NewVerifier("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	_, addr := startServer(t, Config{Users: map[string]Verifier{"app": v}}, newFakeBackend())
	ghost1, ghost2 := saltOf(t, addr, "ghost"), saltOf(t, addr, "ghost")
	other := saltOf(t, addr, "phantom")
	app1, app2 := saltOf(t, addr, "app"), saltOf(t, addr, "app")
	if ghost1 == "" || ghost1 != ghost2 {
		t.Errorf("unknown user: salts %q and %q", ghost1, ghost2)
	}
	if app1 != app2 {
		t.Errorf("known user: salts %q and %q", app1, app2)
	}
	if other == ghost1 || ghost1 == app1 || len(ghost1) != len(app1) {
		t.Errorf("salts: ghost %q, phantom %q, app %q", ghost1, other, app1)
	}
	// Another server (another secret) makes up other salts.
	_, addr2 := startServer(t, Config{Users: map[string]Verifier{"app": v}}, newFakeBackend())
	if saltOf(t, addr2, "ghost") == ghost1 {
		t.Error("two servers made up the same salt")
	}
}

// TestUnknownUserFailure: an unknown user fails exactly as a known user with a wrong password
// does (FATAL 28P01, the same words). The time each takes is logged, not asserted.
func TestUnknownUserFailure(t *testing.T) {
	v, err := NewVerifier("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	_, addr := startServer(t, Config{Users: map[string]Verifier{"app": v}}, newFakeBackend())
	login := func(user, pass string) (*pgconn.PgError, time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		c, err := pgconn.Connect(ctx, fmt.Sprintf("postgres://%s:%s@%s/wasql?sslmode=disable", user, pass, addr))
		took := time.Since(start)
		if err == nil {
			c.Close(ctx)
			return nil, took
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) {
			t.Fatalf("%s: %v", user, err)
		}
		return pe, took
	}
	if pe, _ := login("app", "s3cret"); pe != nil {
		t.Fatalf("the right password: %v", pe)
	}
	wrong, _ := login("app", "nope")
	unknown, _ := login("ghost", "nope")
	if wrong == nil || unknown == nil {
		t.Fatal("a login succeeded")
	}
	norm := func(pe *pgconn.PgError, user string) string {
		return fmt.Sprintf("%s %s %s", pe.Severity, pe.Code, strings.Replace(pe.Message, `"`+user+`"`, `"USER"`, 1))
	}
	if a, b := norm(wrong, "app"), norm(unknown, "ghost"); a != b || wrong.Code != "28P01" {
		t.Fatalf("wrong password: %s; unknown user: %s", a, b)
	}
	median := func(user string) time.Duration {
		var d []time.Duration
		for range 15 {
			_, took := login(user, "nope")
			d = append(d, took)
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	known, ghost := median("app"), median("ghost")
	t.Logf("median failed login: known user %v, unknown user %v (ratio %.2f)", known, ghost, float64(ghost)/float64(known))
}
