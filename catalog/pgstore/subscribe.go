package pgstore

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wasql/wasql/catalog"
)

// Bounds of the background work.
const (
	backoffMin   = 50 * time.Millisecond
	backoffMax   = 5 * time.Second
	queryTimeout = 10 * time.Second // one reconciliation, one connect, one ping
)

// listenerName is the application_name of the listening connection, so that operators (and
// tests) can find it in pg_stat_activity.
const listenerName = "wasql catalog listener"

// wake asks the deliverer to reconcile; it never blocks.
func (s *Store) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// listen keeps a dedicated connection LISTENing on Channel and wakes the deliverer on every
// notification newer than what was delivered, and on every (re)connect (notifications sent
// while it was down are lost); it also LISTENs on StatsChannel for the statistics reporter
// (stats.go), woken the same way. It reconnects with exponential backoff. While idle it pings the
// connection every reconcile interval, so that a silently dead connection is replaced.
func (s *Store) listen() {
	defer s.wg.Done()
	backoff := backoffMin
	for {
		err := s.listenOnce()
		if s.ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.Warn("catalog listener cannot connect", "err", err, "retry", backoff)
		} else { // it had been up: the first retry comes quickly
			backoff = backoffMin
		}
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, backoffMax)
	}
}

// listenOnce connects, listens, and returns when the connection fails or the store closes. It
// returns nil if the connection had been established (so the next attempt comes quickly).
func (s *Store) listenOnce() (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("catalog listener panicked: %v\n%s", p, debug.Stack())
		}
	}()
	cfg := s.cfg.ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = listenerName
	ctx, cancel := context.WithTimeout(s.ctx, queryTimeout)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		_, err = conn.Exec(ctx, "LISTEN "+Channel+"; LISTEN "+StatsChannel)
	}
	cancel()
	if err != nil {
		if conn != nil {
			conn.Close(context.Background())
		}
		return fmt.Errorf("listen: %w", err)
	}
	defer conn.Close(context.Background())
	s.listenerPID.Store(conn.PgConn().PID())
	defer s.listenerPID.Store(0)
	s.wake() // notifications sent while not listening are lost: reconcile now
	s.wakeStats()
	for {
		ctx, cancel := context.WithTimeout(s.ctx, s.opts.reconcile)
		n, werr := conn.WaitForNotification(ctx)
		cancel()
		switch {
		case s.ctx.Err() != nil:
			return nil
		case werr == nil && n.Channel == StatsChannel:
			s.wakeStats()
		case werr == nil:
			if v, err := strconv.ParseInt(n.Payload, 10, 64); err != nil || v > s.Version() {
				s.wake()
			}
		case errors.Is(werr, context.DeadlineExceeded) && !conn.IsClosed():
			pctx, cancel := context.WithTimeout(s.ctx, queryTimeout)
			perr := conn.Ping(pctx)
			cancel()
			if perr != nil {
				s.log.Warn("catalog listener ping failed", "err", perr)
				return nil
			}
		default:
			s.log.Warn("catalog listener lost its connection", "err", werr)
			return nil
		}
	}
}

// deliver reconciles when woken, and at least every reconcile interval; after a failure it
// retries with backoff.
func (s *Store) deliver() {
	defer s.wg.Done()
	timer := time.NewTimer(s.opts.reconcile)
	defer timer.Stop()
	backoff := time.Duration(0)
	for {
		var retry <-chan time.Time
		if backoff > 0 {
			retry = time.After(backoff)
		}
		select {
		case <-s.ctx.Done():
			return
		case <-s.kick:
		case <-timer.C:
		case <-retry:
		}
		ctx, cancel := context.WithTimeout(s.ctx, queryTimeout)
		err := s.reconcile(ctx)
		cancel()
		if s.ctx.Err() != nil {
			return
		}
		if err != nil {
			backoff = min(max(2*backoff, backoffMin), backoffMax)
			s.log.Warn("catalog reconciliation failed", "err", err, "retry", backoff)
		} else {
			backoff = 0
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(s.opts.reconcile)
	}
}

// reconcile brings subscribers up to the database's catalog version. From one snapshot it reads
// the version and, if it moved, the change log after the last delivered version; if the log
// holds every change since (it does unless this store fell more than the log's length behind,
// or the log is damaged) they are delivered one by one, as they were made. Otherwise the
// function list is compared with what subscribers were last told, and the difference delivered.
func (s *Store) reconcile(ctx context.Context) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("reconcile panicked: %v\n%s", p, debug.Stack())
		}
	}()
	var (
		version int64
		changes []catalog.Change
		fns     []catalog.Function
		diff    bool
	)
	err = s.readOnly(ctx, func(tx pgx.Tx) error {
		var err error
		if version, err = catalogVersion(ctx, tx); err != nil || version == s.last {
			return err
		}
		if version > s.last {
			if changes, err = s.readLog(ctx, tx, version); err != nil {
				s.log.Warn("catalog change log unusable; comparing function lists", "err", err)
			}
			if changes != nil {
				return nil
			}
		}
		// Behind the log, a damaged log, or a version that went backwards (a database restored
		// from a backup): compare lists.
		diff = true
		fns, err = list(ctx, tx)
		return err
	})
	if err != nil {
		return err
	}
	if version == s.last {
		return nil
	}
	if diff {
		changes = s.diff(fns)
	}
	for _, c := range changes {
		k := encodeKey(c.Function.Key())
		if c.Kind == catalog.Dropped {
			delete(s.snapshot, k)
		} else {
			s.snapshot[k] = c.Function
		}
		s.notify(c)
	}
	s.last = version
	s.dmu.Lock()
	s.delivered = version
	close(s.advanced)
	s.advanced = make(chan struct{})
	s.dmu.Unlock()
	return nil
}

// readLog returns the changes after s.last through version, or nil with no error if the log no
// longer holds all of them.
func (s *Store) readLog(ctx context.Context, tx pgx.Tx, version int64) ([]catalog.Change, error) {
	rows, err := tx.Query(ctx, "SELECT version, kind, function::text FROM wasql.changes WHERE version > $1 AND version <= $2 ORDER BY version", s.last, version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	changes := []catalog.Change{}
	next := s.last + 1
	for rows.Next() {
		var (
			v    int64
			kind string
			data string
		)
		if err := rows.Scan(&v, &kind, &data); err != nil {
			return nil, err
		}
		if v != next {
			return nil, nil // pruned
		}
		next++
		c, err := decodeChange(v, kind, []byte(data))
		if err != nil {
			return nil, err
		}
		changes = append(changes, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if next != version+1 {
		return nil, nil
	}
	return changes, nil
}

// diff returns the changes that take subscribers from s.snapshot to fns, in key order: a
// function gone is Dropped, a new one Created, one whose Version or Created differs Replaced
// (or, if it was dropped and created again meanwhile, Dropped then Created).
func (s *Store) diff(fns []catalog.Function) []catalog.Change {
	var changes []catalog.Change
	now := make(map[string]bool, len(fns))
	for _, fn := range fns {
		now[encodeKey(fn.Key())] = true
	}
	var gone []catalog.Function
	for k, fn := range s.snapshot {
		if !now[k] {
			gone = append(gone, fn)
		}
	}
	for _, fn := range gone {
		changes = append(changes, catalog.Change{Kind: catalog.Dropped, Function: fn})
	}
	for _, fn := range fns {
		old, ok := s.snapshot[encodeKey(fn.Key())]
		switch {
		case !ok:
			changes = append(changes, catalog.Change{Kind: catalog.Created, Function: fn})
		case !old.Created.Equal(fn.Created) || fn.Version < old.Version:
			changes = append(changes, catalog.Change{Kind: catalog.Dropped, Function: old}, catalog.Change{Kind: catalog.Created, Function: fn})
		case old.Version != fn.Version || !old.Replaced.Equal(fn.Replaced):
			changes = append(changes, catalog.Change{Kind: catalog.Replaced, Function: fn})
		}
	}
	sortChanges(changes)
	return changes
}

// sortChanges orders changes by key, keeping the order of the changes of one key.
func sortChanges(cs []catalog.Change) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j-1].Function.Key().Compare(cs[j].Function.Key()) > 0; j-- {
			cs[j-1], cs[j] = cs[j], cs[j-1]
		}
	}
}

// notify delivers c to every active subscriber, each with its own copy. A subscriber that panics
// is reported and does not stop delivery to the others.
func (s *Store) notify(c catalog.Change) { s.subs.Notify(c, s.call) }

func (s *Store) call(fn func(catalog.Change), c catalog.Change) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("catalog subscriber panicked", "change", c.Function.Key().String(), "panic", p, "stack", string(debug.Stack()))
		}
	}()
	fn(c)
}

// waitDelivered waits until subscribers have been told of version, the store closes, ctx ends
// or deliveryWait passes, whichever comes first. The write has committed either way.
func (s *Store) waitDelivered(ctx context.Context, version int64) {
	timeout := time.NewTimer(deliveryWait)
	defer timeout.Stop()
	for {
		s.dmu.Lock()
		done, advanced := s.delivered >= version, s.advanced
		s.dmu.Unlock()
		if done {
			return
		}
		select {
		case <-advanced:
		case <-ctx.Done():
			return
		case <-s.closed:
			return
		case <-timeout.C:
			s.log.Warn("catalog change committed but not yet delivered to subscribers", "version", version, "waited", deliveryWait)
			return
		}
	}
}
