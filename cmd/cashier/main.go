// Command cashier runs the cashier payment service.
//
//	cashier serve    run the service (sandbox mode with no configuration)
//	cashier migrate  apply database migrations
//	cashier token    print a development bearer token for a user
//	cashier notify verify ID   verify a recorded channel message again
//	cashier version  print the version and VCS revision
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
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
  version   print the version and VCS revision of this build

Run "cashier <command> -h" for a command's flags.
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	var err error
	switch args[0] {
	case "serve":
		err = runServe(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		err = runMigrate(ctx, args[1:], getenv, stdout, stderr)
	case "token":
		err = runToken(args[1:], getenv, stdout, stderr)
	case "notify":
		err = runNotify(ctx, args[1:], getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, version())
	case "help", "-h", "--help":
		if len(args) > 1 && args[1] != "help" {
			// "cashier help serve" is "cashier serve -h".
			return run(ctx, []string{args[1], "-h"}, getenv, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
	// Asking for help is not a failure: the flags were printed.
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// version describes this build: the module version and, when the build
// recorded it, the VCS revision and whether the tree had changes.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "cashier (no build information)"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	rev, at, modified := "unknown", "", ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = " " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = " (modified)"
			}
		}
	}
	return fmt.Sprintf("cashier %s, revision %s%s%s, %s", v, rev, at, modified, info.GoVersion)
}
