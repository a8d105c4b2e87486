// Package sqlstore implements cashier.Store on SQLite (modernc.org/sqlite, the
// embedded default) and PostgreSQL (pgx), with one set of SQL where the dialects
// agree and embedded goose migrations for each.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"cashier"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" driver
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations
var migrations embed.FS

// Dialect names the SQL database behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is a cashier.Store on a SQL database.
type DB struct {
	db      *sql.DB       // SQLite; on PostgreSQL, database/sql over pool (migrations, SQL())
	pool    *pgxpool.Pool // PostgreSQL only
	dialect Dialect
	dsn     string
	// writes queues SQLite's write transactions for group commit.
	writes sqliteWriter
	stmts  stmtCache // SQLite's prepared statements
	// rebound keeps each query rebound for PostgreSQL, by its text: the
	// texts are this package's own (a few hundred at most).
	rebound sync.Map
}

var _ cashier.Store = (*DB)(nil)

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Options tune the connections to the database. The zero Options are the
// defaults, sized for a small machine (2 cores).
type Options struct {
	// MaxConns bounds this process's connections: PostgreSQL's pool
	// (default 20, or pool_max_conns in the URL) and SQLite's (default 8;
	// one writes at a time, the others read).
	MaxConns int
	// StatementTimeout stops a PostgreSQL statement that runs longer
	// (default 30s; negative: none). Migrations run without it.
	StatementTimeout time.Duration
	// BusyTimeout bounds how long a SQLite write waits for the lock that
	// another process (or River's own connections) holds (default 10s);
	// the store's writes queue in Go and commit in groups.
	BusyTimeout time.Duration
	// Synchronous is SQLite's synchronous setting: "full" (default: every
	// commit is on disk before it is acknowledged, as PostgreSQL does) or
	// "normal" (in WAL mode a commit survives cashier crashing, but not the
	// machine losing power).
	Synchronous string
}

// Default connection settings.
const (
	DefaultPostgresConns    = 20
	DefaultSQLiteConns      = 8
	DefaultStatementTimeout = 30 * time.Second
	DefaultBusyTimeout      = 10 * time.Second
)

func (o Options) withDefaults(dialect Dialect) (Options, error) {
	if o.MaxConns < 0 {
		return o, fmt.Errorf("max_conns %d: must be at least 1", o.MaxConns)
	}
	if o.MaxConns == 0 {
		o.MaxConns = DefaultPostgresConns
		if dialect == SQLite {
			o.MaxConns = DefaultSQLiteConns
		}
	}
	if o.StatementTimeout == 0 {
		o.StatementTimeout = DefaultStatementTimeout
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	switch o.Synchronous {
	case "":
		o.Synchronous = "full"
	case "full", "normal":
	default:
		return o, fmt.Errorf("sqlite synchronous %q: use full or normal", o.Synchronous)
	}
	return o, nil
}

// Open opens the database named by dsn with the default Options.
func Open(ctx context.Context, dsn string) (*DB, error) {
	return OpenWith(ctx, dsn, Options{})
}

// OpenWith opens the database named by dsn: a postgres:// URL, or else the
// path of a SQLite file (created if missing). It does not migrate; call
// Migrate.
func OpenWith(ctx context.Context, dsn string, opts Options) (*DB, error) {
	d := &DB{dsn: dsn, dialect: SQLite}
	if IsPostgres(dsn) {
		d.dialect = Postgres
	}
	opts, err := opts.withDefaults(d.dialect)
	if err != nil {
		return nil, err
	}
	if d.dialect == Postgres {
		var cfg *pgxpool.Config
		if cfg, err = pgxpool.ParseConfig(dsn); err == nil {
			if !strings.Contains(dsn, "pool_max_conns=") {
				cfg.MaxConns = int32(opts.MaxConns)
			}
			if opts.StatementTimeout > 0 {
				cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
			}
			if d.pool, err = pgxpool.NewWithConfig(ctx, cfg); err == nil {
				d.db = stdlib.OpenDBFromPool(d.pool)
			}
		}
	} else {
		d.db, err = sql.Open("sqlite", sqliteDSN(dsn, opts))
		d.stmts.db = d.db
		if err == nil {
			// WAL lets readers run beside the one writer; the write lock is taken
			// at BEGIN (_txlock=immediate) so that two transactions never deadlock
			// upgrading a read lock, and waits are bounded by busy_timeout.
			d.db.SetMaxOpenConns(opts.MaxConns)
			d.db.SetMaxIdleConns(opts.MaxConns)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", d.dialect, err)
	}
	if err := d.db.PingContext(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("connect to %s database: %w", d.dialect, redact(err, dsn))
	}
	return d, nil
}

func sqliteDSN(path string, opts Options) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+opts.Synchronous+")")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// redact keeps a password in a DSN out of error messages.
func redact(err error, dsn string) error {
	u, perr := url.Parse(dsn)
	if perr != nil || u.User == nil {
		return err
	}
	if p, ok := u.User.Password(); ok && p != "" {
		return errors.New(strings.ReplaceAll(err.Error(), p, "xxxxx"))
	}
	return err
}

// Dialect says which database this is.
func (d *DB) Dialect() Dialect { return d.dialect }

// SQL returns the database as a *sql.DB.
func (d *DB) SQL() *sql.DB { return d.db }

// Pool returns the PostgreSQL connection pool; nil on SQLite.
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

// PoolStats reads the connection pool's state: pgx's on PostgreSQL,
// database/sql's on SQLite.
func (d *DB) PoolStats() cashier.PoolStats {
	if d.pool != nil {
		st := d.pool.Stat()
		return cashier.PoolStats{InUse: int(st.AcquiredConns()), Idle: int(st.IdleConns()), Max: int(st.MaxConns()),
			Waits: st.EmptyAcquireCount(), WaitTime: st.EmptyAcquireWaitTime()}
	}
	st := d.db.Stats()
	return cashier.PoolStats{InUse: st.InUse, Idle: st.Idle, Max: st.MaxOpenConnections, Waits: st.WaitCount, WaitTime: st.WaitDuration}
}

// Migrate applies the embedded migrations that have not been applied yet.
func (d *DB) Migrate(ctx context.Context) error {
	dir, gd := "migrations/sqlite", goose.DialectSQLite3
	if d.dialect == Postgres {
		dir, gd = "migrations/postgres", goose.DialectPostgres
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	db := d.db
	if d.dialect == Postgres {
		// A migration may rewrite a large table: no statement timeout.
		cfg, err := pgxpool.ParseConfig(d.dsn) // which takes the pool's settings out
		if err != nil {
			return fmt.Errorf("migrations: %w", redact(err, d.dsn))
		}
		db = stdlib.OpenDB(*cfg.ConnConfig)
		defer db.Close()
	}
	p, err := goose.NewProvider(gd, db, fsys)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// Close closes the database.
func (d *DB) Close() error {
	d.stmts.close()
	err := d.db.Close()
	if d.pool != nil {
		d.pool.Close()
	}
	return err
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	if err := d.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping %s: %w", d.dialect, err)
	}
	return nil
}

// View runs fn outside an explicit transaction: reads only.
func (d *DB) View(ctx context.Context, fn func(cashier.Tx) error) error {
	if d.pool != nil {
		return fn(&tx{c: pgxConn{d.pool}, dialect: d.dialect, rebound: &d.rebound})
	}
	return fn(&tx{c: cachedConn{cache: &d.stmts}, dialect: d.dialect, rebound: &d.rebound})
}

// Update runs fn in one read-write transaction.
func (d *DB) Update(ctx context.Context, fn func(cashier.Tx) error) error {
	if d.pool != nil {
		return d.updatePgx(ctx, fn)
	}
	return d.updateSQLite(ctx, fn)
}

func (d *DB) updatePgx(ctx context.Context, fn func(cashier.Tx) error) error {
	t, err := d.beginPgx(ctx)
	if err != nil {
		return err
	}
	// release rolls back unless committed, so it runs whatever happens,
	// panics included.
	defer t.release(context.WithoutCancel(ctx))
	if err := fn(&tx{c: t, dialect: d.dialect, rebound: &d.rebound, pg: t}); err != nil {
		return err
	}
	if err := t.commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

type tx struct {
	c       conn
	dialect Dialect
	rebound *sync.Map
	raw     *sql.Tx // SQLite, inside Update
	pg      *pgTx   // PostgreSQL, inside Update
}

// DriverTx returns the driver's transaction (*sql.Tx on SQLite, pgx.Tx on
// PostgreSQL) for work that must join it, such as inserting background jobs;
// nil outside Update.
func (t *tx) DriverTx() any {
	switch {
	case t.raw != nil:
		return t.raw
	case t.pg != nil:
		if ptx := t.pg.driverTx(); ptx != nil {
			return ptx
		}
	}
	return nil
}

// insertWithCommit runs an INSERT … RETURNING id whose id nothing in the
// transaction needs: on PostgreSQL it goes out with COMMIT, and *id is set
// once Update has committed; elsewhere it runs now.
func (t *tx) insertWithCommit(ctx context.Context, id *int64, query string, args ...any) error {
	if t.pg == nil {
		var err error
		*id, err = t.insert(ctx, query, args...)
		return err
	}
	t.pg.sendWithCommit(t.rebind(query+" RETURNING id"), args, func(r pgx.Row) error { return r.Scan(id) })
	return nil
}

// execWithCommit runs a write nothing in the transaction reads: on
// PostgreSQL it goes out with COMMIT; elsewhere it runs now.
func (t *tx) execWithCommit(ctx context.Context, query string, args ...any) error {
	if t.pg == nil {
		_, err := t.exec(ctx, query, args...)
		return err
	}
	t.pg.sendWithCommit(t.rebind(query), args, nil)
	return nil
}

// rebind turns the ? placeholders every query is written with into $n for PostgreSQL.
func (t *tx) rebind(query string) string {
	if t.dialect != Postgres {
		return query
	}
	if q, ok := t.rebound.Load(query); ok {
		return q.(string)
	}
	q := placeholders(query)
	t.rebound.Store(query, q)
	return q
}

// placeholders numbers the ? placeholders of query outside string literals.
func placeholders(query string) string {
	var b strings.Builder
	n := 0
	inString := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			inString = !inString
			b.WriteByte(c)
		case c == '?' && !inString:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (int64, error) {
	return t.c.exec(ctx, t.rebind(query), args...)
}

func (t *tx) query(ctx context.Context, query string, args ...any) (rows, error) {
	return t.c.query(ctx, t.rebind(query), args...)
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) row {
	return t.c.queryRow(ctx, t.rebind(query), args...)
}

// insert runs an INSERT … RETURNING id and returns the id.
func (t *tx) insert(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := t.queryRow(ctx, query+" RETURNING id", args...).Scan(&id)
	return id, err
}

// changed runs a guarded UPDATE and reports whether it changed a row.
func (t *tx) changed(ctx context.Context, query string, args ...any) (bool, error) {
	n, err := t.exec(ctx, query, args...)
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

func notFound(err error, what string, id any) error {
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) {
		return cashier.Errorf(cashier.ENOTFOUND, "%s %v not found", what, id)
	}
	return fmt.Errorf("load %s %v: %w", what, id, err)
}
