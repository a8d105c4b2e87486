package main

import (
	"flag"
	"io"

	"cashier/app"
)

// commonFlags are the flags every command takes; each has an environment
// variable, and a flag beats its variable, which beats the config file.
type commonFlags struct {
	config, data, db, addr string
}

func newFlagSet(name string, getenv func(string) string, stderr io.Writer, withAddr bool) (*flag.FlagSet, *commonFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &commonFlags{}
	fs.StringVar(&c.config, "config", getenv("CASHIER_CONFIG"), "JSON configuration `file` (env CASHIER_CONFIG)")
	fs.StringVar(&c.data, "data", getenv("CASHIER_DATA"), "data `dir`ectory, default ./cashier-data (env CASHIER_DATA)")
	fs.StringVar(&c.db, "db", getenv("CASHIER_DB"), "database `url`: postgres://…; default SQLite in the data directory (env CASHIER_DB)")
	if withAddr {
		fs.StringVar(&c.addr, "addr", getenv("CASHIER_ADDR"), "listen `address`, default 127.0.0.1:8080 (env CASHIER_ADDR)")
	}
	return fs, c
}

// load reads the config file, if any, and lays the flags over it.
func (c *commonFlags) load() (app.Config, error) {
	var cfg app.Config
	if c.config != "" {
		var err error
		if cfg, err = app.LoadConfig(c.config); err != nil {
			return cfg, err
		}
	}
	if c.data != "" {
		cfg.Data = c.data
	}
	if c.db != "" {
		cfg.DB = c.db
	}
	if c.addr != "" {
		cfg.Addr = c.addr
	}
	cfg.Defaults()
	return cfg, cfg.Check()
}
