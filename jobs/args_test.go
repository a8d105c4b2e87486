package jobs

import (
	"context"
	"strings"
	"testing"
	"time"

	"cashier"
	"cashier/sqlstore/storetest"
)

// Webhook deliveries are retried for more than a day, waiting longer each time.
func TestWebhookSchedule(t *testing.T) {
	var total time.Duration
	for i, d := range WebhookSchedule {
		total += d
		if i > 0 && d < WebhookSchedule[i-1] {
			t.Errorf("wait %d (%v) is shorter than the one before", i, d)
		}
	}
	if total < 24*time.Hour {
		t.Errorf("retries span %v, want at least 24h", total)
	}
	if webhookDelay(1) != WebhookSchedule[0] || webhookDelay(0) != WebhookSchedule[0] || webhookDelay(100) != WebhookSchedule[len(WebhookSchedule)-1] {
		t.Error("webhookDelay does not follow the schedule")
	}
	if opts := (deliverEventArgs{}).InsertOpts(); opts.MaxAttempts != len(WebhookSchedule)+1 || opts.Queue != webhookQueue {
		t.Errorf("insert options %+v", opts)
	}
}

// A job joins the store transaction it is scheduled in: it exists only if
// the transaction commits, and scheduling outside one is an error.
func TestJobsJoinTheTransaction(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		q, err := New(ctx, db, Config{})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(time.Hour)
		if err := db.Update(ctx, func(tx cashier.Tx) error { return q.PollPayment(ctx, tx, 1, at) }); err != nil {
			t.Fatal(err)
		}
		rolledBack := db.Update(ctx, func(tx cashier.Tx) error {
			if err := q.PollPayment(ctx, tx, 2, at); err != nil {
				return err
			}
			return cashier.Errorf(cashier.ECONFLICT, "changed my mind")
		})
		if cashier.ErrorCode(rolledBack) != cashier.ECONFLICT {
			t.Fatal(rolledBack)
		}
		// After other statements of the transaction (on PostgreSQL, River
		// then joins a transaction that has begun), with a write that goes
		// out with the commit after it: all of it, or none of it.
		inTx := func(id int64, fail bool) error {
			return db.Update(ctx, func(tx cashier.Tx) error {
				if err := tx.InsertPackage(ctx, &cashier.Package{Name: "p", Price: 100, Active: true}); err != nil {
					return err
				}
				if err := q.PollPayment(ctx, tx, id, at); err != nil {
					return err
				}
				if err := tx.InsertInbound(ctx, &cashier.InboundMessage{Channel: "alipay", Body: []byte("x"), ReceivedAt: at}); err != nil {
					return err
				}
				if fail {
					return cashier.Errorf(cashier.ECONFLICT, "changed my mind")
				}
				return nil
			})
		}
		if err := inTx(4, false); err != nil {
			t.Fatal(err)
		}
		if err := inTx(5, true); cashier.ErrorCode(err) != cashier.ECONFLICT {
			t.Fatal(err)
		}
		var n, packages, messages int
		db.SQL().QueryRow("SELECT COUNT(*) FROM river_job WHERE kind = 'poll_payment'").Scan(&n)
		db.SQL().QueryRow("SELECT COUNT(*) FROM packages").Scan(&packages)
		db.SQL().QueryRow("SELECT COUNT(*) FROM inbound_messages").Scan(&messages)
		if n != 2 || packages != 1 || messages != 1 {
			t.Fatalf("%d jobs, %d packages, %d messages; want 2, 1 and 1 (the rolled-back ones must not exist)", n, packages, messages)
		}
		err = db.View(ctx, func(tx cashier.Tx) error { return q.PollPayment(ctx, tx, 3, at) })
		if err == nil || !strings.Contains(err.Error(), "inside a store transaction") {
			t.Fatalf("scheduling outside a transaction: %v", err)
		}
	})
}
