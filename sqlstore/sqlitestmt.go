package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// SQLite parses a statement each time it is prepared, which is much of the
// cost of a short one. The store's statements are prepared once and reused
// on each connection (database/sql keeps a statement per connection it was
// used on); the texts are this package's own, so the cache stays small.
type stmtCache struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.stmts[query]; ok {
		return s, nil
	}
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[query] = s
	return s, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.stmts {
		s.Close()
	}
	c.stmts = nil
}

// cachedConn runs the store's SQL on SQLite with prepared statements, in a
// transaction (tx set) or not.
type cachedConn struct {
	cache *stmtCache
	tx    *sql.Tx
}

func (c cachedConn) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	s, err := c.cache.get(ctx, query)
	if err != nil || c.tx == nil {
		return s, err
	}
	return c.tx.StmtContext(ctx, s), nil
}

func (c cachedConn) exec(ctx context.Context, query string, args ...any) (int64, error) {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return 0, err
	}
	res, err := s.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c cachedConn) query(ctx context.Context, query string, args ...any) (rows, error) {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	r, err := s.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

func (c cachedConn) queryRow(ctx context.Context, query string, args ...any) row {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return s.QueryRowContext(ctx, args...)
}

// errRow is a row whose statement could not be prepared.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
