// Package storetest gives tests a fresh, migrated database of each dialect:
// SQLite in a temporary directory, and PostgreSQL in a database created for the
// test and dropped after it when CASHIER_TEST_DATABASE_URL names a server.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"cashier/sqlstore"
)

// EnvPostgres names the variable holding the PostgreSQL server URL for tests.
const EnvPostgres = "CASHIER_TEST_DATABASE_URL"

// Dialects runs fn as a subtest for each database: "sqlite" always, "postgres"
// when EnvPostgres is set (skipped with a message otherwise). fn gets a DSN for
// a new, empty database of its own.
// It takes a *testing.T or a *testing.B.
func Dialects[T interface {
	testing.TB
	Run(string, func(T)) bool
}](t T, fn func(t T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t T) { fn(t, SQLiteDSN(t)) })
	t.Run("postgres", func(t T) { fn(t, PostgresDSN(t)) })
}

// SQLiteDSN returns the path of a new SQLite database in t's temporary directory.
func SQLiteDSN(t testing.TB) string {
	return filepath.Join(t.TempDir(), "cashier.db")
}

// PostgresDSN creates a database for t on the server named by EnvPostgres,
// drops it when t ends, and returns its URL. It skips t when the variable is unset.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", EnvPostgres)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgres, err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "cashier_test_" + hex.EncodeToString(b[:])

	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", EnvPostgres, err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// Open opens and migrates the database at dsn, closing it when t ends.
func Open(t testing.TB, dsn string) *sqlstore.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}
