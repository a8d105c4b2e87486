package sqlstore_test

import (
	"context"
	"errors"
	"testing"

	"cashier"
	"cashier/sqlstore/storetest"
)

// A transaction is all or nothing also for the writes that go out with the
// commit (evidence, events): they commit with the rest, vanish with a
// rollback, and one that fails takes the rest of the transaction with it.
// The connection is clean afterwards.
func TestWritesSentWithCommit(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		count := func(table string) int {
			var n int
			if err := db.SQL().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		msg := func() *cashier.InboundMessage {
			return &cashier.InboundMessage{Channel: "alipay", Method: "POST", Path: "/notify", Body: []byte("a=1"), ReceivedAt: t0, Verified: true}
		}
		event := func(id string) *cashier.Event {
			return &cashier.Event{ID: id, Type: "order.paid", OrderID: 1, Payload: []byte(`{}`), CreatedAt: t0}
		}

		// Only writes sent with the commit: they commit, and the id is set.
		m := msg()
		must(t, db.Update(ctx, func(tx cashier.Tx) error {
			if err := tx.InsertInbound(ctx, m); err != nil {
				return err
			}
			return tx.InsertEvent(ctx, event("evt_1"))
		}))
		if m.ID == 0 || count("inbound_messages") != 1 || count("events") != 1 {
			t.Fatalf("committed: message id %d, %d messages, %d events", m.ID, count("inbound_messages"), count("events"))
		}

		// Rolled back by the function's error: nothing.
		errNo := errors.New("changed my mind")
		err := db.Update(ctx, func(tx cashier.Tx) error {
			if err := tx.InsertOrder(ctx, newOrder("u1")); err != nil {
				return err
			}
			if err := tx.InsertInbound(ctx, msg()); err != nil {
				return err
			}
			return errNo
		})
		if !errors.Is(err, errNo) || count("orders") != 0 || count("inbound_messages") != 1 {
			t.Fatalf("rolled back: %v, %d orders, %d messages", err, count("orders"), count("inbound_messages"))
		}

		// A write sent with the commit fails (the event id is taken): the
		// order written before it is not kept either.
		err = db.Update(ctx, func(tx cashier.Tx) error {
			if err := tx.InsertOrder(ctx, newOrder("u1")); err != nil {
				return err
			}
			if err := tx.InsertInbound(ctx, msg()); err != nil {
				return err
			}
			return tx.InsertEvent(ctx, event("evt_1"))
		})
		if err == nil || count("orders") != 0 || count("inbound_messages") != 1 || count("events") != 1 {
			t.Fatalf("failed at commit: %v, %d orders, %d messages, %d events", err, count("orders"), count("inbound_messages"), count("events"))
		}

		// The pool's connections are fine after all that.
		for i := 0; i < 30; i++ {
			o := newOrder("u2")
			must(t, db.Update(ctx, func(tx cashier.Tx) error {
				if err := tx.InsertOrder(ctx, o); err != nil {
					return err
				}
				return tx.InsertInbound(ctx, msg())
			}))
		}
		if count("orders") != 30 || count("inbound_messages") != 31 {
			t.Errorf("after: %d orders, %d messages; want 30 and 31", count("orders"), count("inbound_messages"))
		}
	})
}
