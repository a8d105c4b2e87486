package jobs

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"cashier"
	"cashier/sqlstore"
	"cashier/sqlstore/storetest"
)

// sweepFixture writes a pending order expiring at expires with one attempt
// to poll at pollAt (zero: never), and returns their ids.
func sweepFixture(t *testing.T, db *sqlstore.DB, n int, created, expires, pollAt time.Time, status cashier.OrderStatus) (orderID, paymentID int64) {
	t.Helper()
	ctx := context.Background()
	o := &cashier.Order{UserID: "u1", Kind: cashier.KindPackage, Status: status, Subject: "Gold", Amount: 600, Payable: 600,
		CreatedAt: created, ExpiresAt: expires, Items: []cashier.LineItem{{Name: "Gold", UnitPrice: 600, Count: 1}}}
	p := &cashier.Payment{OutTradeNo: fmt.Sprintf("ALI-sweep-%d", n), Channel: "alipay", Gateway: "app", Amount: 600,
		Status: cashier.PaymentPending, CreatedAt: created, PollAt: pollAt}
	err := db.Update(ctx, func(tx cashier.Tx) error {
		if err := tx.InsertOrder(ctx, o); err != nil {
			return err
		}
		p.OrderID = o.ID
		return tx.InsertPayment(ctx, p)
	})
	if err != nil {
		t.Fatal(err)
	}
	return o.ID, p.ID
}

// jobArgs lists the ids in the jobs of a kind, sorted.
func jobIDs(t *testing.T, db *sqlstore.DB, kind, field string) []int64 {
	t.Helper()
	q := "SELECT CAST(args->>'" + field + "' AS BIGINT) FROM river_job WHERE kind = '" + kind + "'"
	if db.Dialect() == sqlstore.SQLite {
		q = "SELECT CAST(json_extract(args, '$." + field + "') AS INTEGER) FROM river_job WHERE kind = '" + kind + "'"
	}
	rows, err := db.SQL().Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// The rows are the schedule: a sweep makes one expiry job per pending order
// whose expiry passed and one poll job per attempt whose poll time came, and
// nothing for the rest; a second sweep makes none again.
func TestSweepSchedulesWhatIsDue(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
		now := t0
		q, err := New(ctx, db, Config{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		expired, duePoll := sweepFixture(t, db, 1, t0, t0.Add(30*time.Minute), t0.Add(2*time.Minute), cashier.OrderPending)
		later, laterPoll := sweepFixture(t, db, 2, t0, t0.Add(2*time.Hour), t0.Add(time.Hour), cashier.OrderPending)
		third, neverPoll := sweepFixture(t, db, 3, t0, t0.Add(30*time.Minute), time.Time{}, cashier.OrderPending)
		sweepFixture(t, db, 4, t0, t0.Add(30*time.Minute), time.Time{}, cashier.OrderClosed)

		if n, err := q.Sweep(ctx); err != nil || n != 0 {
			t.Fatalf("sweep before anything is due: %d jobs, %v", n, err)
		}
		now = t0.Add(3 * time.Minute)
		if n, err := q.Sweep(ctx); err != nil || n != 1 {
			t.Fatalf("sweep at the first poll: %d jobs, %v", n, err)
		}
		if got := jobIDs(t, db, "poll_payment", "payment_id"); len(got) != 1 || got[0] != duePoll {
			t.Fatalf("poll jobs for %v, want [%d]", got, duePoll)
		}
		now = t0.Add(31 * time.Minute)
		if n, err := q.Sweep(ctx); err != nil || n != 2 {
			t.Fatalf("sweep past the first expiry: %d jobs, %v", n, err)
		}
		if got := jobIDs(t, db, "expire_order", "order_id"); len(got) != 2 || got[0] != expired || got[1] != third {
			t.Fatalf("expiry jobs for %v, want [%d %d] (the pending ones)", got, expired, third)
		}
		if n, err := q.Sweep(ctx); err != nil || n != 0 {
			t.Fatalf("sweeping again: %d jobs, %v", n, err)
		}
		now = t0.Add(3 * time.Hour)
		if n, err := q.Sweep(ctx); err != nil || n != 2 {
			t.Fatalf("sweep at the last: %d jobs, %v", n, err)
		}
		if got := jobIDs(t, db, "expire_order", "order_id"); len(got) != 3 || !slices.Contains(got, later) {
			t.Fatalf("expiry jobs for %v, want the later order %d too", got, later)
		}
		if got := jobIDs(t, db, "poll_payment", "payment_id"); len(got) != 2 || got[1] != laterPoll {
			t.Fatalf("poll jobs for %v, want [%d %d] and never %d", got, duePoll, laterPoll, neverPoll)
		}
	})
}

// Instances sweeping at once claim each row once: as many jobs as rows due,
// however the claims interleave, across more than one batch.
func TestConcurrentSweepsClaimOnce(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
		now := func() time.Time { return t0.Add(time.Hour) }
		const due = sweepBatch + 50
		err := db.Update(ctx, func(tx cashier.Tx) error {
			for i := range due {
				o := &cashier.Order{UserID: "u1", Kind: cashier.KindPackage, Status: cashier.OrderPending, Subject: "Gold",
					Amount: 600, Payable: 600, CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
				if err := tx.InsertOrder(ctx, o); err != nil {
					return err
				}
				p := &cashier.Payment{OrderID: o.ID, OutTradeNo: fmt.Sprintf("ALI-race-%d", i), Channel: "alipay", Amount: 600,
					Status: cashier.PaymentPending, CreatedAt: t0, PollAt: t0.Add(time.Minute)}
				if err := tx.InsertPayment(ctx, p); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		total := make([]int, 3)
		for i := range total {
			q, err := New(ctx, db, Config{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := q.Sweep(ctx)
				if err != nil {
					t.Error(err)
				}
				total[i] = n
			}()
		}
		wg.Wait()
		if sum := total[0] + total[1] + total[2]; sum != 2*due {
			t.Errorf("sweeps scheduled %v = %d jobs, want %d", total, sum, 2*due)
		}
		if n := len(jobIDs(t, db, "expire_order", "order_id")); n != due {
			t.Errorf("%d expiry jobs, want %d", n, due)
		}
		if n := len(jobIDs(t, db, "poll_payment", "payment_id")); n != due {
			t.Errorf("%d poll jobs, want %d", n, due)
		}
	})
}

// The sweep relays each new event once to the endpoints that want it: one
// delivery job per endpoint and event, none for an endpoint that wants
// other events, and nothing again on the next sweep.
func TestSweepRelaysEvents(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		q, err := New(ctx, db, Config{})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
		all := &cashier.WebhookEndpoint{URL: "http://127.0.0.1:9/all", Secret: "s1", CreatedAt: at}
		refunds := &cashier.WebhookEndpoint{URL: "http://127.0.0.1:9/refunds", Secret: "s2", Events: []string{"refund.succeeded"}, CreatedAt: at}
		err = db.Update(ctx, func(tx cashier.Tx) error {
			for _, e := range []*cashier.WebhookEndpoint{all, refunds} {
				if err := tx.InsertWebhookEndpoint(ctx, e); err != nil {
					return err
				}
			}
			for i, typ := range []string{"order.paid", "refund.succeeded"} {
				e := &cashier.Event{ID: fmt.Sprint("evt_", i), Type: typ, OrderID: 1, Payload: []byte(`{}`), CreatedAt: at}
				if err := tx.InsertEvent(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := q.Sweep(ctx); err != nil || n != 3 {
			t.Fatalf("sweep: %d jobs, %v; want 3 (two events to one endpoint, one to the other)", n, err)
		}
		if got := jobIDs(t, db, "deliver_event", "endpoint_id"); len(got) != 3 || got[0] != all.ID || got[1] != all.ID || got[2] != refunds.ID {
			t.Errorf("deliveries to endpoints %v, want [%d %d %d]", got, all.ID, all.ID, refunds.ID)
		}
		if n, err := q.Sweep(ctx); err != nil || n != 0 {
			t.Errorf("sweeping again: %d jobs, %v", n, err)
		}
	})
}
