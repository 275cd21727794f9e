package engine

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestZZProbe(t *testing.T) {
	c := pgServeConnect(t, pgx.QueryExecModeSimpleProtocol)
	ctx := context.Background()
	for _, q := range []string{"create table tb (id int primary key, paid boolean)", "insert into tb values (1, 'true')", "select id from tb where paid = 'true'"} {
		_, err := c.Exec(ctx, q)
		t.Log(q, err)
	}
}
