// Command cashier runs the cashier payment service.
//
//	cashier serve    run the service (sandbox mode with no configuration)
//	cashier migrate  apply database migrations
//	cashier token    print a development bearer token for a user
//	cashier notify verify ID   verify a recorded channel message again
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "cashier:", err)
		os.Exit(1)
	}
}

const usage = `usage: cashier <command> [flags]

commands:
  serve     run the service (no configuration: sandbox mode on SQLite)
  migrate   apply database migrations and exit
  token     print a bearer token for a user (--user ID)
  notify    notify verify ID: verify a recorded channel message again, with today's keys

Run "cashier <command> -h" for a command's flags.
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], getenv, stdout, stderr)
	case "token":
		return runToken(args[1:], getenv, stdout, stderr)
	case "notify":
		return runNotify(ctx, args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}
