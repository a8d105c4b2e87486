package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"

	"cashier"
	"cashier/app"
	"cashier/sqlstore"
)

// runNotify: "cashier notify verify ID" verifies a recorded channel message
// again with the keys configured now, and says what it proves.
func runNotify(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprintln(stderr, "usage: cashier notify verify [flags] MESSAGE_ID")
		args = []string{"verify", "-h"}
	}
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: cashier notify verify [flags] MESSAGE_ID")
	}
	fs, flags := newFlagSet("notify verify", getenv, stderr, false)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: cashier notify verify [flags] MESSAGE_ID (the id in the admin console's channel messages)")
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("message id %q is not a positive integer", fs.Arg(0))
	}
	cfg, err := flags.load()
	if err != nil {
		return err
	}
	// The messages, and the sandbox's keys, are in the data directory
	// unless the database is PostgreSQL and every channel is real.
	if modes, _ := cfg.Modes(); !sqlstore.IsPostgres(cfg.DB) || slices.Contains(slices.Collect(maps.Values(modes)), app.ModeSandbox) {
		if err := app.RequireData(cfg); err != nil {
			return err
		}
	}
	a, err := app.New(ctx, cfg, app.Options{Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	defer a.Close()
	m, n, err := a.Checkout.VerifyInbound(ctx, id)
	if m == nil {
		return err
	}
	fmt.Fprintf(stdout, "message %d: %s %s from %s at %s\nrecorded outcome: %s", m.ID, m.Method, m.Path, m.RemoteAddr,
		m.ReceivedAt.Format("2006-01-02 15:04:05 MST"), m.Outcome)
	if m.Detail != "" {
		fmt.Fprintf(stdout, " (%s)", m.Detail)
	}
	fmt.Fprintln(stdout)
	if len(m.Body) < m.BodySize {
		fmt.Fprintf(stdout, "body: the first %d of its %d bytes are kept (it failed verification when received)\n", len(m.Body), m.BodySize)
	}
	if err != nil {
		fmt.Fprintf(stdout, "verification now: FAILS: %s\n", cashier.ErrorMessage(err))
		return errors.New("the message does not verify")
	}
	fmt.Fprintf(stdout, "verification now: OK: genuine %s message about %s", m.Channel, n.OutTradeNo)
	if n.Refund != nil {
		fmt.Fprintf(stdout, ", refund %s %s, %s yuan\n", n.Refund.OutRefundNo, n.Refund.Status, cashier.FormatYuan(n.Refund.Amount))
		return nil
	}
	fmt.Fprintf(stdout, ": %s (%s), %s yuan, channel trade %s\n", n.Status, n.RawStatus, cashier.FormatYuan(n.Amount), n.ChannelTradeNo)
	return nil
}
