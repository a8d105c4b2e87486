package main

import (
	"context"
	"fmt"
	"io"

	"cashier/sqlstore"
)

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, flags := newFlagSet("migrate", getenv, stderr, false)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := flags.load()
	if err != nil {
		return err
	}
	if !sqlstore.IsPostgres(cfg.DB) {
		if err := ensureDir(cfg.Data); err != nil {
			return err
		}
	}
	db, err := sqlstore.OpenWith(ctx, cfg.DB, cfg.Database.StoreOptions())
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "migrations applied (%s)\n", db.Dialect())
	return nil
}
