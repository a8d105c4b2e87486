package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgTx is a PostgreSQL transaction on one pooled connection that spends no
// round trip of its own: BEGIN goes out in a pipeline with the first
// statement, and the writes nothing in the transaction reads (the evidence
// and the outbox: Tx.InsertInbound, Tx.InsertEvent) go out with COMMIT. A
// transaction of n statements costs n round trips instead of n+2, which on
// the notification path is most of what the database spends.
type pgTx struct {
	ctx   context.Context
	conn  *pgxpool.Conn
	begun bool
	later pgx.Batch // sent with COMMIT
	// river is pgx's own transaction object over the same connection,
	// made when River inserts a job (it takes a pgx.Tx); err is why it
	// could not be made.
	river pgx.Tx
	err   error
}

var errCommitRolledBack = errors.New("the transaction was rolled back by an earlier error")

func (d *DB) beginPgx(ctx context.Context) (*pgTx, error) {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	return &pgTx{ctx: ctx, conn: conn}, nil
}

// first sends BEGIN and a statement in one pipeline.
func (t *pgTx) first(ctx context.Context, query string, args []any) (pgx.BatchResults, error) {
	var b pgx.Batch
	b.Queue("begin")
	b.Queue(query, args...)
	br := t.conn.SendBatch(ctx, &b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	t.begun = true
	return br, nil
}

func (t *pgTx) exec(ctx context.Context, query string, args ...any) (int64, error) {
	if t.begun {
		return pgxConn{t.conn}.exec(ctx, query, args...)
	}
	br, err := t.first(ctx, query, args)
	if err != nil {
		return 0, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag.RowsAffected(), err
}

func (t *pgTx) query(ctx context.Context, query string, args ...any) (rows, error) {
	if !t.begun {
		// Rare (no transaction here starts with a list): it costs the
		// round trip of its own BEGIN.
		if _, err := t.conn.Exec(ctx, "begin"); err != nil {
			return nil, fmt.Errorf("begin transaction: %w", err)
		}
		t.begun = true
	}
	return pgxConn{t.conn}.query(ctx, query, args...)
}

func (t *pgTx) queryRow(ctx context.Context, query string, args ...any) row {
	if t.begun {
		return pgxConn{t.conn}.queryRow(ctx, query, args...)
	}
	return firstRow{t: t, ctx: ctx, query: query, args: args}
}

// firstRow is the row of a transaction's first statement: it is sent, with
// BEGIN, when it is scanned.
type firstRow struct {
	t     *pgTx
	ctx   context.Context
	query string
	args  []any
}

func (r firstRow) Scan(dest ...any) error {
	br, err := r.t.first(r.ctx, r.query, r.args)
	if err != nil {
		return err
	}
	err = br.QueryRow().Scan(dest...)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// sendWithCommit queues a write whose result nothing in the transaction
// needs; scan, when set, reads its row once it ran.
func (t *pgTx) sendWithCommit(query string, args []any, scan func(pgx.Row) error) {
	q := t.later.Queue(query, args...)
	if scan != nil {
		q.QueryRow(scan)
	}
}

// driverTx is pgx's transaction object for River. If BEGIN went out
// already, pgx's own BEGIN is a no-op PostgreSQL only warns about.
func (t *pgTx) driverTx() pgx.Tx {
	if t.river == nil && t.err == nil {
		t.river, t.err = t.conn.Begin(t.ctx)
		if t.err == nil {
			t.begun = true
		}
	}
	return t.river
}

// commit sends the queued writes and COMMIT in one pipeline; PostgreSQL
// answers ROLLBACK to a COMMIT of a transaction an error broke.
func (t *pgTx) commit(ctx context.Context) error {
	if t.err != nil {
		return t.err
	}
	if !t.begun && t.later.Len() == 0 {
		return nil // nothing was sent, nothing to commit
	}
	var b pgx.Batch
	if !t.begun {
		b.Queue("begin")
	}
	b.QueuedQueries = append(b.QueuedQueries, t.later.QueuedQueries...)
	committed := false
	b.Queue("commit").Exec(func(tag pgconn.CommandTag) error {
		committed = tag.String() == "COMMIT"
		return nil
	})
	t.begun = true
	if err := t.conn.SendBatch(ctx, &b).Close(); err != nil {
		return err
	}
	if !committed {
		return errCommitRolledBack
	}
	t.begun = false
	return nil
}

// rollback ends the transaction, if it began, and releases the connection.
// A connection left inside a transaction (the rollback failed) is closed by
// the pool rather than reused.
func (t *pgTx) release(ctx context.Context) {
	if t.begun {
		t.conn.Exec(ctx, "rollback")
	}
	t.conn.Release()
}
