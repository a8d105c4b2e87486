package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"cashier/api"
	"cashier/app"
)

func runToken(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, flags := newFlagSet("token", getenv, stderr, false)
	user := fs.String("user", "", "the user `id` the token is for (required)")
	ttl := fs.Duration("ttl", 30*24*time.Hour, "how long the token is valid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *user == "" {
		return errors.New("token: --user is required")
	}
	if *ttl <= 0 {
		return errors.New("token: --ttl must be positive")
	}
	cfg, err := flags.load()
	if err != nil {
		return err
	}
	if cfg.JWT.PublicKeyFile != "" {
		return errors.New("token: this configuration verifies RS256/ES256 tokens; sign them with your identity provider's private key")
	}
	secret, err := app.JWTSecret(cfg, false)
	if err != nil {
		return err
	}
	token, err := api.IssueToken(secret, *user, time.Now(), *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, token)
	return nil
}

func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	return nil
}
