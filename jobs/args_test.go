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
		var n int
		db.SQL().QueryRow("SELECT COUNT(*) FROM river_job WHERE kind = 'poll_payment'").Scan(&n)
		if n != 1 {
			t.Fatalf("%d jobs, want 1 (the rolled-back one must not exist)", n)
		}
		err = db.View(ctx, func(tx cashier.Tx) error { return q.PollPayment(ctx, tx, 3, at) })
		if err == nil || !strings.Contains(err.Error(), "inside a store transaction") {
			t.Fatalf("scheduling outside a transaction: %v", err)
		}
	})
}
