package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"cashier"
)

// SQLite commits one transaction at a time, and a commit waits for the disk
// (synchronous=full). Group commit makes that wait shared: the transactions
// that queue while one commits run next in one SQLite transaction, each in a
// savepoint of its own, and commit together. Each still succeeds or fails
// on its own (a failure rolls back to its savepoint), runs alone (one after
// the other, as with a lock), and is reported committed only once the
// shared commit is on disk.

// maxGroup bounds how many transactions commit together.
const maxGroup = 64

type sqliteWrite struct {
	ctx  context.Context
	fn   func(cashier.Tx) error
	err  error
	pnc  any // what fn panicked with
	done chan struct{}
}

// sqliteWriter queues SQLite's writes; the writer that finds no group under
// way runs groups until the queue is empty.
type sqliteWriter struct {
	mu      sync.Mutex
	queue   []*sqliteWrite
	running bool
}

func (d *DB) updateSQLite(ctx context.Context, fn func(cashier.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	w := &sqliteWrite{ctx: ctx, fn: fn, done: make(chan struct{})}
	q := &d.writes
	q.mu.Lock()
	q.queue = append(q.queue, w)
	lead := !q.running
	q.running = true
	q.mu.Unlock()
	if lead {
		d.commitGroups()
	}
	<-w.done
	if w.pnc != nil {
		panic(w.pnc)
	}
	return w.err
}

// commitGroups runs queued writes, a group at a time, until none is left.
func (d *DB) commitGroups() {
	q := &d.writes
	for {
		q.mu.Lock()
		n := min(len(q.queue), maxGroup)
		group := q.queue[:n:n]
		q.queue = q.queue[n:]
		if n == 0 {
			q.running = false
		}
		q.mu.Unlock()
		if n == 0 {
			return
		}
		d.commitGroup(group)
		for _, w := range group {
			close(w.done)
		}
	}
}

// commitGroup runs each write of group in a savepoint of one transaction and
// commits it; a write whose function failed is rolled back to its savepoint
// and gets its error, the others get the commit's result.
func (d *DB) commitGroup(group []*sqliteWrite) {
	// Not any one write's context: the group's transaction outlives each.
	sqltx, err := d.db.BeginTx(context.Background(), nil)
	if err != nil {
		for _, w := range group {
			w.err = fmt.Errorf("begin transaction: %w", err)
		}
		return
	}
	ok := 0
	for _, w := range group {
		if w.err = w.ctx.Err(); w.err != nil {
			continue
		}
		if _, err := sqltx.Exec("SAVEPOINT write"); err != nil {
			w.err = fmt.Errorf("begin transaction: %w", err)
			continue
		}
		w.err = d.runWrite(w, sqltx)
		if w.err != nil || w.pnc != nil {
			if _, err := sqltx.Exec("ROLLBACK TO write"); err != nil {
				// The savepoint cannot be undone: nothing of the group may
				// commit.
				sqltx.Rollback()
				for _, w := range group {
					if w.err == nil {
						w.err = fmt.Errorf("roll back a failed write: %w", err)
					}
				}
				return
			}
		}
		if _, err := sqltx.Exec("RELEASE write"); err != nil && w.err == nil {
			w.err = fmt.Errorf("release savepoint: %w", err)
		}
		if w.err == nil && w.pnc == nil {
			ok++
		}
	}
	if ok == 0 {
		sqltx.Rollback()
		return
	}
	if err := sqltx.Commit(); err != nil {
		for _, w := range group {
			if w.err == nil && w.pnc == nil {
				w.err = fmt.Errorf("commit: %w", err)
			}
		}
	}
}

// runWrite runs one write's function, keeping a panic for its caller.
func (d *DB) runWrite(w *sqliteWrite, sqltx *sql.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			w.pnc = p
		}
	}()
	return w.fn(&tx{c: cachedConn{cache: &d.stmts, tx: sqltx}, dialect: d.dialect, rebound: &d.rebound, raw: sqltx})
}
