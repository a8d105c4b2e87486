package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cashier"
	"cashier/sqlstore"
	"cashier/sqlstore/storetest"
)

// paidOrder writes an order paid in full by one payment of amount.
func paidOrder(t *testing.T, db *sqlstore.DB, amount int64) (*cashier.Order, *cashier.Payment) {
	t.Helper()
	ctx := context.Background()
	o := newOrder("u1")
	o.Amount, o.Discount, o.Payable = amount, 0, amount
	p := &cashier.Payment{OutTradeNo: fmt.Sprintf("ALI-%d-%d", amount, time.Now().UnixNano()), Channel: "alipay",
		Gateway: "app", Amount: amount, Status: cashier.PaymentPaid, CreatedAt: t0, PaidAt: t0}
	must(t, db.Update(ctx, func(tx cashier.Tx) error {
		if err := tx.InsertOrder(ctx, o); err != nil {
			return err
		}
		p.OrderID = o.ID
		if err := tx.InsertPayment(ctx, p); err != nil {
			return err
		}
		ok, err := tx.TransitionOrder(ctx, o.ID, cashier.OrderPending, cashier.OrderChange{Status: cashier.OrderPaid, At: t0, PaidAmount: amount})
		if err == nil && !ok {
			err = fmt.Errorf("order %d not paid", o.ID)
		}
		return err
	}))
	return o, p
}

func refundedOf(t *testing.T, db *sqlstore.DB, orderID int64) int64 {
	t.Helper()
	var o *cashier.Order
	must(t, db.View(context.Background(), func(tx cashier.Tx) (err error) {
		o, err = tx.Order(context.Background(), orderID)
		return err
	}))
	return o.Refunded
}

func TestRefundRoundTrip(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		o, p := paidOrder(t, db, 1000)
		r1 := &cashier.Refund{OrderID: o.ID, PaymentID: p.ID, OutRefundNo: "RF1", Amount: 300, Reason: "damaged", CreatedAt: t0}
		r2 := &cashier.Refund{OrderID: o.ID, PaymentID: p.ID, OutRefundNo: "RF2", Amount: 200, Status: cashier.RefundSucceeded,
			ChannelRefundNo: "CH2", Detail: "ok", CreatedAt: t0.Add(time.Minute), SettledAt: t0.Add(2 * time.Minute)}
		must(t, db.Update(ctx, func(tx cashier.Tx) error {
			if err := tx.InsertRefund(ctx, r1); err != nil {
				return err
			}
			return tx.InsertRefund(ctx, r2)
		}))
		if r1.ID == 0 || r2.ID <= r1.ID || r1.Status != cashier.RefundPending {
			t.Fatalf("ids %d, %d; status %q", r1.ID, r2.ID, r1.Status)
		}
		must(t, db.View(ctx, func(tx cashier.Tx) error {
			got, err := tx.Refund(ctx, r1.ID)
			if err != nil {
				return err
			}
			if *got != *r1 {
				t.Errorf("Refund = %+v, want %+v", got, r1)
			}
			got, err = tx.RefundByOutRefundNo(ctx, "RF2")
			if err != nil {
				return err
			}
			if *got != *r2 {
				t.Errorf("RefundByOutRefundNo = %+v, want %+v", got, r2)
			}
			list, err := tx.RefundsByOrder(ctx, o.ID)
			if err != nil || len(list) != 2 || list[0] != *r1 || list[1] != *r2 {
				t.Errorf("RefundsByOrder = %+v, %v", list, err)
			}
			order, err := tx.Order(ctx, o.ID)
			if err != nil {
				return err
			}
			if len(order.Refunds) != 2 || order.Refunds[0].ID != r1.ID || order.Refunds[1].ID != r2.ID {
				t.Errorf("Order.Refunds = %+v", order.Refunds)
			}
			pay, err := tx.Payment(ctx, p.ID)
			if err != nil || pay.OutTradeNo != p.OutTradeNo || pay.Status != cashier.PaymentPaid || !pay.PaidAt.Equal(t0) {
				t.Errorf("Payment = %+v, %v", pay, err)
			}
			if list, err := tx.RefundsByOrder(ctx, o.ID+1); err != nil || len(list) != 0 {
				t.Errorf("RefundsByOrder(other) = %+v, %v", list, err)
			}
			return nil
		}))
		// out_refund_no is unique: the channel deduplicates on it.
		err := db.Update(ctx, func(tx cashier.Tx) error {
			return tx.InsertRefund(ctx, &cashier.Refund{OrderID: o.ID, PaymentID: p.ID, OutRefundNo: "RF1", Amount: 1, CreatedAt: t0})
		})
		if err == nil {
			t.Error("duplicate out_refund_no accepted")
		}
		err = db.Update(ctx, func(tx cashier.Tx) error {
			return tx.InsertRefund(ctx, &cashier.Refund{OrderID: o.ID, PaymentID: p.ID, OutRefundNo: "RF3", Amount: 0, CreatedAt: t0})
		})
		if err == nil {
			t.Error("refund of 0 accepted")
		}
		err = db.Update(ctx, func(tx cashier.Tx) error {
			return tx.InsertRefund(ctx, &cashier.Refund{OrderID: o.ID, PaymentID: p.ID + 100, OutRefundNo: "RF4", Amount: 1, CreatedAt: t0})
		})
		if err == nil {
			t.Error("refund of a missing payment accepted")
		}
	})
}

func TestLifecycleNotFound(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		must(t, db.View(ctx, func(tx cashier.Tx) error {
			check := func(name string, err error) { t.Helper(); wantNotFound(t, name, err) }
			_, err := tx.Payment(ctx, 1)
			check("Payment", err)
			_, err = tx.Refund(ctx, 1)
			check("Refund", err)
			_, err = tx.RefundByOutRefundNo(ctx, "nope")
			check("RefundByOutRefundNo", err)
			_, err = tx.Event(ctx, "evt_nope")
			check("Event", err)
			_, err = tx.WebhookEndpoint(ctx, 1)
			check("WebhookEndpoint", err)
			return nil
		}))
	})
}

func TestTransitionRefund(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		o, p := paidOrder(t, db, 1000)
		r1 := &cashier.Refund{OrderID: o.ID, PaymentID: p.ID, OutRefundNo: "RF1", Amount: 300, CreatedAt: t0}
		r2 := &cashier.Refund{OrderID: o.ID, PaymentID: p.ID, OutRefundNo: "RF2", Amount: 200, ChannelRefundNo: "CH2", CreatedAt: t0}
		must(t, db.Update(ctx, func(tx cashier.Tx) error {
			if err := tx.InsertRefund(ctx, r1); err != nil {
				return err
			}
			return tx.InsertRefund(ctx, r2)
		}))
		at := t0.Add(time.Hour)
		var ok1, ok2, ok3 bool
		must(t, db.Update(ctx, func(tx cashier.Tx) (err error) {
			ok1, err = tx.TransitionRefund(ctx, r1.ID, cashier.RefundPending,
				cashier.RefundChange{Status: cashier.RefundSucceeded, At: at, ChannelRefundNo: "CH1"})
			if err != nil {
				return err
			}
			// Settled already: a second transition from pending does nothing.
			ok2, err = tx.TransitionRefund(ctx, r1.ID, cashier.RefundPending,
				cashier.RefundChange{Status: cashier.RefundFailed, At: at.Add(time.Minute), ChannelRefundNo: "CHX", Detail: "late"})
			if err != nil {
				return err
			}
			// No channel refund number: the one it has is kept.
			ok3, err = tx.TransitionRefund(ctx, r2.ID, cashier.RefundPending,
				cashier.RefundChange{Status: cashier.RefundFailed, At: at, Detail: "insufficient balance"})
			return err
		}))
		if !ok1 || ok2 || !ok3 {
			t.Fatalf("transitions = %v, %v, %v; want true, false, true", ok1, ok2, ok3)
		}
		must(t, db.View(ctx, func(tx cashier.Tx) error {
			got, err := tx.Refund(ctx, r1.ID)
			if err != nil {
				return err
			}
			if got.Status != cashier.RefundSucceeded || got.ChannelRefundNo != "CH1" || got.Detail != "" || !got.SettledAt.Equal(at) {
				t.Errorf("refund 1 = %+v", got)
			}
			got, err = tx.Refund(ctx, r2.ID)
			if err != nil {
				return err
			}
			if got.Status != cashier.RefundFailed || got.ChannelRefundNo != "CH2" || got.Detail != "insufficient balance" || !got.SettledAt.Equal(at) {
				t.Errorf("refund 2 = %+v", got)
			}
			return nil
		}))
	})
}

// 30 refunds of 100 race on an order paid 1000, each in its own transaction:
// exactly 10 are reserved and the refunded total ends at the paid amount.
func TestReserveRefundRace(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		o, _ := paidOrder(t, db, 1000)
		var wins atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				err := db.Update(ctx, func(tx cashier.Tx) error {
					ok, err := tx.ReserveRefund(ctx, o.ID, 100)
					if err != nil {
						return err
					}
					if ok {
						wins.Add(1)
					}
					got, err := tx.Order(ctx, o.ID)
					if err != nil {
						return err
					}
					if got.Refunded > got.PaidAmount {
						t.Errorf("refunded %d of %d inside a transaction", got.Refunded, got.PaidAmount)
					}
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if wins.Load() != 10 {
			t.Errorf("%d refunds reserved, want 10", wins.Load())
		}
		if got := refundedOf(t, db, o.ID); got != 1000 {
			t.Errorf("refunded = %d, want 1000", got)
		}
	})
}

func TestReserveAndReleaseRefund(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		o, _ := paidOrder(t, db, 1000)
		reserve := func(amount int64) (ok bool, err error) {
			err = db.Update(ctx, func(tx cashier.Tx) (err error) {
				ok, err = tx.ReserveRefund(ctx, o.ID, amount)
				return err
			})
			return ok, err
		}
		release := func(id, amount int64) error {
			return db.Update(ctx, func(tx cashier.Tx) error { return tx.ReleaseRefund(ctx, id, amount) })
		}
		if ok, err := reserve(700); !ok || err != nil {
			t.Fatalf("reserve 700 = %v, %v", ok, err)
		}
		if ok, err := reserve(301); ok || err != nil {
			t.Errorf("reserve 301 of the 300 left = %v, %v", ok, err)
		}
		if ok, err := reserve(300); !ok || err != nil {
			t.Errorf("reserve the 300 left = %v, %v", ok, err)
		}
		for _, n := range []int64{0, -5} {
			if _, err := reserve(n); cashier.ErrorCode(err) != cashier.EINVALID {
				t.Errorf("reserve %d: %v, want invalid", n, err)
			}
			if err := release(o.ID, n); cashier.ErrorCode(err) != cashier.EINVALID {
				t.Errorf("release %d: %v, want invalid", n, err)
			}
		}
		must(t, release(o.ID, 400))
		if got := refundedOf(t, db, o.ID); got != 600 {
			t.Errorf("refunded after releasing 400 = %d, want 600", got)
		}
		// Never below zero: releasing more than is reserved fails and changes nothing.
		if err := release(o.ID, 601); err == nil {
			t.Error("released 601 of 600")
		}
		if got := refundedOf(t, db, o.ID); got != 600 {
			t.Errorf("refunded after a refused release = %d, want 600", got)
		}
		must(t, release(o.ID, 600))
		if got := refundedOf(t, db, o.ID); got != 0 {
			t.Errorf("refunded after releasing all = %d, want 0", got)
		}
		if err := release(o.ID+1, 1); cashier.ErrorCode(err) != cashier.ENOTFOUND {
			t.Errorf("release on a missing order: %v, want not found", err)
		}
		must(t, db.Update(ctx, func(tx cashier.Tx) error {
			ok, err := tx.ReserveRefund(ctx, o.ID+1, 1)
			if ok || err != nil {
				t.Errorf("reserve on a missing order = %v, %v", ok, err)
			}
			return nil
		}))
	})
}

func TestEventByID(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		e := &cashier.Event{ID: "evt_7", Type: cashier.EventRefundSucceeded, OrderID: 9, Payload: []byte(`{"refund":1}`), CreatedAt: t0}
		must(t, db.Update(ctx, func(tx cashier.Tx) error { return tx.InsertEvent(ctx, e) }))
		must(t, db.View(ctx, func(tx cashier.Tx) error {
			got, err := tx.Event(ctx, "evt_7")
			if err != nil {
				return err
			}
			if got.ID != e.ID || got.Type != e.Type || got.OrderID != 9 || string(got.Payload) != `{"refund":1}` || !got.CreatedAt.Equal(t0) {
				t.Errorf("Event = %+v", got)
			}
			return nil
		}))
	})
}

func TestWebhookEndpoints(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		all := &cashier.WebhookEndpoint{URL: "https://a.example/hook", Secret: "s1", CreatedAt: t0}
		some := &cashier.WebhookEndpoint{URL: "https://b.example/hook", Secret: "s2",
			Events: []string{cashier.EventOrderPaid, cashier.EventRefundFailed}, CreatedAt: t0.Add(time.Second)}
		empty := &cashier.WebhookEndpoint{URL: "https://c.example/hook", Secret: "s3", Events: []string{}, CreatedAt: t0}
		must(t, db.Update(ctx, func(tx cashier.Tx) error {
			for _, e := range []*cashier.WebhookEndpoint{all, some, empty} {
				if err := tx.InsertWebhookEndpoint(ctx, e); err != nil {
					return err
				}
			}
			return nil
		}))
		var raw string
		if err := db.SQL().QueryRowContext(ctx, "SELECT events FROM webhook_endpoints WHERE url = 'https://a.example/hook'").Scan(&raw); err != nil || raw != "[]" {
			t.Errorf("events of an endpoint that wants all stored as %q, %v; want []", raw, err)
		}
		must(t, db.View(ctx, func(tx cashier.Tx) error {
			got, err := tx.WebhookEndpoint(ctx, some.ID)
			if err != nil {
				return err
			}
			if got.URL != some.URL || got.Secret != "s2" || !slices.Equal(got.Events, some.Events) || !got.CreatedAt.Equal(some.CreatedAt) {
				t.Errorf("WebhookEndpoint = %+v", got)
			}
			if !got.Wants(cashier.EventRefundFailed) || got.Wants(cashier.EventOrderClosed) {
				t.Errorf("Wants: %v", got.Events)
			}
			list, err := tx.WebhookEndpoints(ctx)
			if err != nil {
				return err
			}
			if len(list) != 3 || list[0].ID != all.ID || list[1].ID != some.ID || list[2].ID != empty.ID {
				t.Fatalf("WebhookEndpoints = %+v", list)
			}
			if list[0].Events != nil || list[2].Events != nil || !list[0].Wants(cashier.EventOrderClosed) {
				t.Errorf("no events should read back as nil: %#v, %#v", list[0].Events, list[2].Events)
			}
			return nil
		}))
	})
}

func TestDeliveries(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		// Three attempts at evt_1 on endpoint 1, one at evt_1 on endpoint 2,
		// one at evt_2 on endpoint 1, a minute apart.
		ds := []*cashier.Delivery{
			{EventID: "evt_1", EndpointID: 1, Attempt: 1, Error: "connection refused", Duration: 1500 * time.Millisecond},
			{EventID: "evt_1", EndpointID: 2, Attempt: 1, StatusCode: 200, Duration: 12 * time.Millisecond},
			{EventID: "evt_1", EndpointID: 1, Attempt: 2, StatusCode: 500, Error: "HTTP 500", Duration: 3 * time.Second},
			{EventID: "evt_2", EndpointID: 1, Attempt: 1, StatusCode: 204, Duration: 7 * time.Millisecond},
			{EventID: "evt_1", EndpointID: 1, Attempt: 3, StatusCode: 200, Duration: 250 * time.Millisecond},
		}
		must(t, db.Update(ctx, func(tx cashier.Tx) error {
			for i, d := range ds {
				d.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
				if err := tx.InsertDelivery(ctx, d); err != nil {
					return err
				}
			}
			return nil
		}))
		list := func(f cashier.DeliveryFilter) []int64 {
			t.Helper()
			var got []cashier.Delivery
			must(t, db.View(ctx, func(tx cashier.Tx) (err error) {
				got, err = tx.Deliveries(ctx, f)
				return err
			}))
			var ids []int64
			for _, d := range got {
				ids = append(ids, d.ID)
			}
			return ids
		}
		id := func(i ...int) []int64 {
			var ids []int64
			for _, i := range i {
				ids = append(ids, ds[i].ID)
			}
			return ids
		}
		for _, c := range []struct {
			f    cashier.DeliveryFilter
			want []int64
		}{
			{cashier.DeliveryFilter{}, id(4, 3, 2, 1, 0)},
			{cashier.DeliveryFilter{EventID: "evt_1"}, id(4, 2, 1, 0)},
			{cashier.DeliveryFilter{EndpointID: 1}, id(4, 3, 2, 0)},
			{cashier.DeliveryFilter{EventID: "evt_1", EndpointID: 1}, id(4, 2, 0)},
			{cashier.DeliveryFilter{EventID: "evt_1", EndpointID: 1, Limit: 2}, id(4, 2)},
			{cashier.DeliveryFilter{EventID: "evt_3"}, nil},
			{cashier.DeliveryFilter{Limit: 1000}, id(4, 3, 2, 1, 0)},
		} {
			if got := list(c.f); !slices.Equal(got, c.want) {
				t.Errorf("Deliveries(%+v) = %v, want %v", c.f, got, c.want)
			}
		}
		must(t, db.View(ctx, func(tx cashier.Tx) error {
			got, err := tx.Deliveries(ctx, cashier.DeliveryFilter{EventID: "evt_1", EndpointID: 1})
			if err != nil {
				return err
			}
			for i, want := range []*cashier.Delivery{ds[4], ds[2], ds[0]} {
				if g := got[i]; g.ID != want.ID || g.EventID != want.EventID || g.EndpointID != want.EndpointID ||
					g.Attempt != want.Attempt || g.StatusCode != want.StatusCode || g.Error != want.Error ||
					g.Duration != want.Duration || !g.CreatedAt.Equal(want.CreatedAt) {
					t.Errorf("delivery %d = %+v, want %+v", i, g, *want)
				}
			}
			return nil
		}))
	})
}

// The default limit is 50 and the largest 500.
func TestDeliveriesLimit(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		must(t, db.Update(ctx, func(tx cashier.Tx) error {
			for i := range 520 {
				d := &cashier.Delivery{EventID: "evt_1", EndpointID: 1, Attempt: i + 1, CreatedAt: t0.Add(time.Duration(i) * time.Second)}
				if err := tx.InsertDelivery(ctx, d); err != nil {
					return err
				}
			}
			return nil
		}))
		for _, c := range []struct{ limit, want int }{{0, 50}, {-1, 50}, {10, 10}, {500, 500}, {501, 500}} {
			var got []cashier.Delivery
			must(t, db.View(ctx, func(tx cashier.Tx) (err error) {
				got, err = tx.Deliveries(ctx, cashier.DeliveryFilter{Limit: c.limit})
				return err
			}))
			if len(got) != c.want || got[0].Attempt != 520 {
				t.Errorf("Limit %d: %d deliveries, want %d newest first", c.limit, len(got), c.want)
			}
		}
	})
}

// 20 requests race to claim one key, each in its own transaction: exactly one
// claims it, and every other one sees the winner's record.
func TestClaimIdempotencyKeyRace(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		var (
			mu       sync.Mutex
			winners  []string
			existing []*cashier.IdempotencyRecord
			wg       sync.WaitGroup
		)
		start := make(chan struct{})
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				hash := fmt.Sprintf("hash-%d", i)
				err := db.Update(ctx, func(tx cashier.Tx) error {
					rec := &cashier.IdempotencyRecord{Scope: "u1", Key: "k1", RequestHash: hash, CreatedAt: t0}
					ex, claimed, err := tx.ClaimIdempotencyKey(ctx, rec)
					if err != nil {
						return err
					}
					mu.Lock()
					defer mu.Unlock()
					if claimed {
						if ex != nil {
							t.Errorf("claimed, and existing = %+v", ex)
						}
						winners = append(winners, hash)
					} else {
						existing = append(existing, ex)
					}
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(winners) != 1 || len(existing) != 19 {
			t.Fatalf("%d claimed (%v), %d saw it claimed; want 1 and 19", len(winners), winners, len(existing))
		}
		for _, ex := range existing {
			if ex == nil || ex.Scope != "u1" || ex.Key != "k1" || ex.RequestHash != winners[0] || ex.Done || ex.Status != 0 ||
				ex.Body != nil || !ex.CreatedAt.Equal(t0) {
				t.Errorf("existing = %+v, want the unfinished record of %s", ex, winners[0])
			}
		}
	})
}

func TestIdempotencyKeys(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		claim := func(scope, key, hash string, at time.Time) (ex *cashier.IdempotencyRecord, claimed bool) {
			t.Helper()
			must(t, db.Update(ctx, func(tx cashier.Tx) (err error) {
				ex, claimed, err = tx.ClaimIdempotencyKey(ctx, &cashier.IdempotencyRecord{Scope: scope, Key: key, RequestHash: hash, CreatedAt: at})
				return err
			}))
			return ex, claimed
		}
		if _, ok := claim("u1", "k1", "h1", t0); !ok {
			t.Fatal("first claim of u1/k1 refused")
		}
		// Scopes are separate key spaces.
		if _, ok := claim("admin", "k1", "h2", t0.Add(time.Hour)); !ok {
			t.Fatal("first claim of admin/k1 refused")
		}
		body := []byte("{\"id\":7}\x00\xff")
		must(t, db.Update(ctx, func(tx cashier.Tx) error { return tx.FinishIdempotencyKey(ctx, "u1", "k1", 201, body) }))
		ex, ok := claim("u1", "k1", "other", t0.Add(time.Minute))
		if ok || ex == nil || !ex.Done || ex.Status != 201 || string(ex.Body) != string(body) || ex.RequestHash != "h1" || !ex.CreatedAt.Equal(t0) {
			t.Fatalf("claim of a finished key = %+v, %v", ex, ok)
		}
		err := db.Update(ctx, func(tx cashier.Tx) error { return tx.FinishIdempotencyKey(ctx, "u1", "nope", 200, nil) })
		if cashier.ErrorCode(err) != cashier.ENOTFOUND {
			t.Errorf("finish a missing key: %v, want not found", err)
		}
		err = db.Update(ctx, func(tx cashier.Tx) error {
			_, _, err := tx.ClaimIdempotencyKey(ctx, &cashier.IdempotencyRecord{Scope: "u1", RequestHash: "h", CreatedAt: t0})
			return err
		})
		if cashier.ErrorCode(err) != cashier.EINVALID {
			t.Errorf("claim without a key: %v, want invalid", err)
		}

		// Dropped (the request failed), the key can be claimed again.
		drop := func(createdAt time.Time) (dropped bool) {
			must(t, db.Update(ctx, func(tx cashier.Tx) (err error) {
				dropped, err = tx.DropIdempotencyKey(ctx, "u1", "k1", createdAt)
				return err
			}))
			return dropped
		}
		if !drop(time.Time{}) || drop(time.Time{}) {
			t.Fatal("drop: want the first to delete, the second to find nothing")
		}
		if _, ok := claim("u1", "k1", "h3", t0.Add(2*time.Hour)); !ok {
			t.Fatal("claim after drop refused")
		}
		// A stale claim is dropped only by its own creation time: of two
		// takers, the second finds nothing to drop.
		if drop(t0) {
			t.Fatal("dropped a claim with another creation time")
		}
		if !drop(t0.Add(2*time.Hour)) || drop(t0.Add(2*time.Hour)) {
			t.Fatal("taking over a stale claim")
		}
		if _, ok := claim("u1", "k1", "h3", t0.Add(2*time.Hour)); !ok {
			t.Fatal("claim after the takeover refused")
		}
		ex, ok = claim("admin", "k1", "x", t0)
		if ok || ex.RequestHash != "h2" || ex.Done {
			t.Errorf("admin/k1 after dropping u1/k1 = %+v, %v", ex, ok)
		}

		// Purge: admin/k1 (t0+1h) goes, u1/k1 (t0+2h) stays, and a key created
		// exactly at the cut-off stays.
		purge := func(before time.Time) int64 {
			t.Helper()
			var n int64
			must(t, db.Update(ctx, func(tx cashier.Tx) (err error) {
				n, err = tx.PurgeIdempotencyKeys(ctx, before)
				return err
			}))
			return n
		}
		if n := purge(t0.Add(time.Hour)); n != 0 {
			t.Errorf("purge before t0+1h removed %d, want 0", n)
		}
		if n := purge(t0.Add(90 * time.Minute)); n != 1 {
			t.Errorf("purge before t0+90m removed %d, want 1", n)
		}
		if _, ok := claim("admin", "k1", "h4", t0); !ok {
			t.Error("purged admin/k1 still claimed")
		}
		if ex, ok := claim("u1", "k1", "x", t0); ok || ex.RequestHash != "h3" {
			t.Errorf("u1/k1 after purge = %+v, %v", ex, ok)
		}
		if n := purge(t0.Add(3 * time.Hour)); n != 2 {
			t.Errorf("purge of all removed %d, want 2", n)
		}
	})
}
