package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cashier"
	"cashier/sqlstore"
	"cashier/sqlstore/storetest"
)

var t0 = time.Date(2026, 11, 23, 9, 30, 15, 123456000, time.UTC)

func newOrder(user string) *cashier.Order {
	return &cashier.Order{
		UserID: user, Kind: cashier.KindPackage, Status: cashier.OrderPending, Source: "ch1",
		Subject: "Gold pack", Amount: 600, Discount: 100, Payable: 500,
		CreatedAt: t0, ExpiresAt: t0.Add(30 * time.Minute),
		Items: []cashier.LineItem{{Name: "Gold pack", UnitPrice: 600, Count: 1}},
	}
}

// A line of a package is written only at the package's current name and
// price and while it is sold: an order priced from a stale copy is refused
// with ErrPackageChanged, and nothing of it stays.
func TestPackageLineGuard(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		pkg := &cashier.Package{Name: "Gold pack", Price: 600, Active: true}
		must(t, db.Update(ctx, func(tx cashier.Tx) error { return tx.InsertPackage(ctx, pkg) }))
		line := func(name string, price int64) *cashier.Order {
			o := newOrder("u1")
			o.Items = []cashier.LineItem{{PackageID: pkg.ID, Name: name, UnitPrice: price, Count: 1}}
			return o
		}
		for _, c := range []struct {
			name  string
			order *cashier.Order
			want  error
		}{
			{"current", line("Gold pack", 600), nil},
			{"old price", line("Gold pack", 500), cashier.ErrPackageChanged},
			{"old name", line("Gold", 600), cashier.ErrPackageChanged},
		} {
			err := db.Update(ctx, func(tx cashier.Tx) error { return tx.InsertOrder(ctx, c.order) })
			if !errors.Is(err, c.want) && !(c.want == nil && err == nil) {
				t.Errorf("%s: %v, want %v", c.name, err, c.want)
			}
		}
		if _, err := db.SQL().Exec("UPDATE packages SET active = FALSE"); err != nil {
			t.Fatal(err)
		}
		err := db.Update(ctx, func(tx cashier.Tx) error { return tx.InsertOrder(ctx, line("Gold pack", 600)) })
		if !errors.Is(err, cashier.ErrPackageChanged) {
			t.Errorf("withdrawn package: %v", err)
		}
		var orders, lines int
		db.SQL().QueryRow("SELECT COUNT(*) FROM orders").Scan(&orders)
		db.SQL().QueryRow("SELECT COUNT(*) FROM order_items WHERE package_id <> 0").Scan(&lines)
		if orders != 1 || lines != 1 {
			t.Errorf("%d orders and %d package lines written, want the one priced right", orders, lines)
		}
	})
}

func TestOrderRoundTrip(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		o := newOrder("u1")
		p := &cashier.Payment{OutTradeNo: "ALI1", Channel: "alipay", Gateway: "app", Amount: 500,
			Status: cashier.PaymentPending, Credential: []byte(`"app_id=1&sign=x+y"`), CreatedAt: t0}
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
		var got *cashier.Order
		if err := db.View(ctx, func(tx cashier.Tx) error {
			got, err = tx.Order(ctx, o.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got.UserID != "u1" || got.Payable != 500 || got.Discount != 100 || got.Status != cashier.OrderPending {
			t.Errorf("order = %+v", got)
		}
		if !got.CreatedAt.Equal(t0) || !got.ExpiresAt.Equal(t0.Add(30*time.Minute)) || !got.PaidAt.IsZero() {
			t.Errorf("times: created %v expires %v paid %v", got.CreatedAt, got.ExpiresAt, got.PaidAt)
		}
		if len(got.Items) != 1 || got.Items[0].Name != "Gold pack" || got.Items[0].Total() != 600 {
			t.Errorf("items = %+v", got.Items)
		}
		if len(got.Payments) != 1 || string(got.Payments[0].Credential) != `"app_id=1&sign=x+y"` {
			t.Errorf("payments = %+v", got.Payments)
		}
		list, err := viewOrders(db, "u1")
		if err != nil || len(list) != 1 {
			t.Errorf("OrdersByUser = %v, %v", list, err)
		}
		if list, _ := viewOrders(db, "u2"); len(list) != 0 {
			t.Errorf("other user sees %d orders", len(list))
		}
	})
}

func viewOrders(db *sqlstore.DB, user string) (list []cashier.Order, err error) {
	err = db.View(context.Background(), func(tx cashier.Tx) error {
		list, err = tx.OrdersByUser(context.Background(), user, cashier.OrderFilter{})
		return err
	})
	return list, err
}

func TestNotFound(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		db.View(ctx, func(tx cashier.Tx) error {
			_, err := tx.Order(ctx, 42)
			wantNotFound(t, "Order", err)
			_, err = tx.PaymentByOutTradeNo(ctx, "nope")
			wantNotFound(t, "PaymentByOutTradeNo", err)
			_, err = tx.Package(ctx, 1)
			wantNotFound(t, "Package", err)
			_, err = tx.Coupon(ctx, 1)
			wantNotFound(t, "Coupon", err)
			return nil
		})
	})
}

// Many writers race to move the same order out of pending: exactly one wins.
func TestGuardedTransitionsRace(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		o := newOrder("u1")
		if err := db.Update(ctx, func(tx cashier.Tx) error { return tx.InsertOrder(ctx, o) }); err != nil {
			t.Fatal(err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				to := cashier.OrderPaid
				if i%2 == 1 {
					to = cashier.OrderClosed
				}
				err := db.Update(ctx, func(tx cashier.Tx) error {
					ok, err := tx.TransitionOrder(ctx, o.ID, cashier.OrderPending, cashier.OrderChange{Status: to, At: t0, PaidAmount: 500})
					if ok {
						wins.Add(1)
					}
					return err
				})
				if err != nil {
					t.Error(err)
				}
			}(i)
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d transitions out of pending, want 1", wins.Load())
		}
	})
}

func TestTransitionRefusesIllegalMoves(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		err := db.Update(ctx, func(tx cashier.Tx) error {
			_, err := tx.TransitionOrder(ctx, 1, cashier.OrderRefunded, cashier.OrderChange{Status: cashier.OrderPending})
			return err
		})
		if err == nil {
			t.Error("refunded→pending accepted")
		}
		err = db.Update(ctx, func(tx cashier.Tx) error {
			_, err := tx.TransitionPayment(ctx, 1, []cashier.PaymentStatus{cashier.PaymentPaid}, cashier.PaymentChange{Status: cashier.PaymentPending})
			return err
		})
		if err == nil {
			t.Error("paid→pending accepted")
		}
	})
}

func TestPaymentTransition(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		o := newOrder("u1")
		p := &cashier.Payment{OutTradeNo: "ALI2", Channel: "alipay", Gateway: "app", Amount: 500, Status: cashier.PaymentPending, CreatedAt: t0}
		must(t, db.Update(ctx, func(tx cashier.Tx) error {
			if err := tx.InsertOrder(ctx, o); err != nil {
				return err
			}
			p.OrderID = o.ID
			return tx.InsertPayment(ctx, p)
		}))
		paidAt := t0.Add(time.Minute)
		var ok1, ok2 bool
		must(t, db.Update(ctx, func(tx cashier.Tx) (err error) {
			ok1, err = tx.TransitionPayment(ctx, p.ID, []cashier.PaymentStatus{cashier.PaymentPending, cashier.PaymentClosed},
				cashier.PaymentChange{Status: cashier.PaymentPaid, At: paidAt, ChannelTradeNo: "T1", PaidAt: paidAt})
			if err != nil {
				return err
			}
			ok2, err = tx.TransitionPayment(ctx, p.ID, []cashier.PaymentStatus{cashier.PaymentPending},
				cashier.PaymentChange{Status: cashier.PaymentPaid, At: paidAt, ChannelTradeNo: "T2"})
			return err
		}))
		if !ok1 || ok2 {
			t.Fatalf("transitions = %v, %v; want true, false", ok1, ok2)
		}
		var got *cashier.Payment
		must(t, db.View(ctx, func(tx cashier.Tx) (err error) {
			got, err = tx.PaymentByOutTradeNo(ctx, "ALI2")
			return err
		}))
		if got.Status != cashier.PaymentPaid || got.ChannelTradeNo != "T1" || !got.PaidAt.Equal(paidAt) {
			t.Errorf("payment = %+v", got)
		}
	})
}

func TestCouponAndCostOrderClaims(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		c := &cashier.Coupon{UserID: "u1", Name: "1 yuan off", Discount: 100, ExpiresAt: t0.Add(time.Hour)}
		cost := newOrder("u1")
		cost.Status, cost.PaidAmount = cashier.OrderPaid, 500
		must(t, db.Update(ctx, func(tx cashier.Tx) error {
			if err := tx.InsertCoupon(ctx, c); err != nil {
				return err
			}
			return tx.InsertOrder(ctx, cost)
		}))
		must(t, db.Update(ctx, func(tx cashier.Tx) error {
			check := func(name string, got, want bool, err error) {
				t.Helper()
				if err != nil || got != want {
					t.Errorf("%s = %v, %v; want %v", name, got, err, want)
				}
			}
			ok, err := tx.TransitionCoupon(ctx, c.ID, cashier.CouponAvailable, cashier.CouponLocked, 7)
			check("lock by 7", ok, true, err)
			ok, err = tx.TransitionCoupon(ctx, c.ID, cashier.CouponAvailable, cashier.CouponLocked, 8)
			check("lock by 8", ok, false, err)
			ok, err = tx.TransitionCoupon(ctx, c.ID, cashier.CouponLocked, cashier.CouponAvailable, 8)
			check("release by 8", ok, false, err)
			ok, err = tx.TransitionCoupon(ctx, c.ID, cashier.CouponLocked, cashier.CouponUsed, 7)
			check("use by 7", ok, true, err)

			ok, err = tx.ClaimCostOrder(ctx, cost.ID, 7)
			check("claim by 7", ok, true, err)
			ok, err = tx.ClaimCostOrder(ctx, cost.ID, 8)
			check("claim by 8", ok, false, err)
			if err := tx.ReleaseCostOrder(ctx, cost.ID, 8); err != nil {
				return err
			}
			o, err := tx.Order(ctx, cost.ID)
			if err != nil || o.CostClaimedBy != 7 {
				t.Errorf("release by a stranger: claimed by %d, %v", o.CostClaimedBy, err)
			}
			if err := tx.ReleaseCostOrder(ctx, cost.ID, 7); err != nil {
				return err
			}
			ok, err = tx.ClaimCostOrder(ctx, cost.ID, 8)
			check("claim by 8 after release", ok, true, err)
			return nil
		}))
		var got *cashier.Coupon
		must(t, db.View(ctx, func(tx cashier.Tx) (err error) {
			got, err = tx.Coupon(ctx, c.ID)
			return err
		}))
		if got.Status != cashier.CouponUsed || got.OrderID != 7 || !got.ExpiresAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("coupon = %+v", got)
		}
	})
}

func TestInboundAndEvents(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		body := []byte("a=1+2&b=%2B\x00\xff")
		m := &cashier.InboundMessage{Channel: "alipay", Method: "POST", Path: "/api/v1/order/notify/alipay",
			Headers: map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: body, ReceivedAt: t0,
			Outcome: cashier.InboundRejected, Detail: "bad signature", OutTradeNo: "ALI9"}
		e := &cashier.Event{ID: "evt_1", Type: cashier.EventOrderPaid, OrderID: 3, Payload: []byte(`{"x":1}`), CreatedAt: t0}
		must(t, db.Update(ctx, func(tx cashier.Tx) error {
			if err := tx.InsertInbound(ctx, m); err != nil {
				return err
			}
			return tx.InsertEvent(ctx, e)
		}))
		must(t, db.View(ctx, func(tx cashier.Tx) error {
			got, err := tx.Inbound(ctx, m.ID)
			if err != nil {
				return err
			}
			if string(got.Body) != string(body) || got.Outcome != cashier.InboundRejected || got.OutTradeNo != "ALI9" ||
				got.Headers["Content-Type"][0] != "application/x-www-form-urlencoded" || !got.ReceivedAt.Equal(t0) {
				t.Errorf("inbound = %+v", got)
			}
			evs, err := tx.EventsByOrder(ctx, 3)
			if err != nil || len(evs) != 1 || evs[0].ID != "evt_1" || string(evs[0].Payload) != `{"x":1}` {
				t.Errorf("events = %+v, %v", evs, err)
			}
			return nil
		}))
		// The event id is the outbox's idempotency key: a second insert fails.
		err := db.Update(ctx, func(tx cashier.Tx) error { return tx.InsertEvent(ctx, e) })
		if err == nil {
			t.Error("duplicate event id accepted")
		}
	})
}

func TestMigrateTwice(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		if err := db.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantNotFound fails t unless err is a not-found error.
func wantNotFound(t *testing.T, name string, err error) {
	t.Helper()
	if cashier.ErrorCode(err) != cashier.ENOTFOUND {
		t.Errorf("%s: %v, want not found", name, err)
	}
}

// PayPendingOrder pays a pending order and its attempt together, once; it
// changes nothing for an order not pending (paid already, closed, unknown),
// and reports an attempt that moved on (paid by another delivery) so that
// the caller rolls back.
func TestPayPendingOrder(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		type fixture struct {
			o *cashier.Order
			p *cashier.Payment
		}
		write := func(n int, os cashier.OrderStatus, ps cashier.PaymentStatus) fixture {
			o := newOrder("u1")
			o.Status = os
			p := &cashier.Payment{OutTradeNo: fmt.Sprint("ALI-pay-", n), Channel: "alipay", Amount: 500, Status: ps, CreatedAt: t0}
			must(t, db.Update(ctx, func(tx cashier.Tx) error {
				if err := tx.InsertOrder(ctx, o); err != nil {
					return err
				}
				p.OrderID = o.ID
				return tx.InsertPayment(ctx, p)
			}))
			return fixture{o, p}
		}
		pending := write(1, cashier.OrderPending, cashier.PaymentPending)
		closedAttempt := write(2, cashier.OrderPending, cashier.PaymentClosed)
		closedOrder := write(3, cashier.OrderClosed, cashier.PaymentClosed)
		attemptPaid := write(4, cashier.OrderPending, cashier.PaymentPaid)
		paidAt := t0.Add(time.Minute)
		change := cashier.PaymentChange{Status: cashier.PaymentPaid, At: paidAt, ChannelTradeNo: "2026T1", PaidAt: paidAt}
		for _, c := range []struct {
			name                   string
			f                      fixture
			orderPaid, attemptPaid bool
		}{
			{"pending order and attempt", pending, true, true},
			{"the same again", pending, false, false},
			{"an attempt closed before the money came", closedAttempt, true, true},
			{"a closed order", closedOrder, false, false},
			{"an attempt another delivery paid", attemptPaid, true, false},
		} {
			var got *cashier.Order
			var paid bool
			err := db.Update(ctx, func(tx cashier.Tx) (err error) {
				got, paid, err = tx.PayPendingOrder(ctx, c.f.o.ID, paidAt, 500, c.f.p.ID, change)
				if err == nil && got != nil && !paid {
					err = errRolledBack
				}
				return err
			})
			if err != nil && !errors.Is(err, errRolledBack) {
				t.Fatalf("%s: %v", c.name, err)
			}
			if c.orderPaid != (got != nil) || paid != c.attemptPaid {
				t.Fatalf("%s: order %+v, attempt paid %v; want order paid %v, attempt paid %v", c.name, got, paid, c.orderPaid, c.attemptPaid)
			}
			if got != nil && (got.Status != cashier.OrderPaid || got.PaidAmount != 500 || !got.PaidAt.Equal(paidAt) || got.UserID != "u1") {
				t.Errorf("%s: %+v", c.name, got)
			}
		}
		for _, c := range []struct {
			name    string
			f       fixture
			order   cashier.OrderStatus
			attempt cashier.PaymentStatus
		}{
			{"pending", pending, cashier.OrderPaid, cashier.PaymentPaid},
			{"closed attempt", closedAttempt, cashier.OrderPaid, cashier.PaymentPaid},
			{"closed order", closedOrder, cashier.OrderClosed, cashier.PaymentClosed},
			{"rolled back", attemptPaid, cashier.OrderPending, cashier.PaymentPaid},
		} {
			var o *cashier.Order
			must(t, db.View(ctx, func(tx cashier.Tx) (err error) { o, err = tx.Order(ctx, c.f.o.ID); return err }))
			if o.Status != c.order || o.Payments[0].Status != c.attempt {
				t.Errorf("%s: order %s, attempt %s; want %s and %s", c.name, o.Status, o.Payments[0].Status, c.order, c.attempt)
			}
			if c.attempt == cashier.PaymentPaid && c.f.p.Status != cashier.PaymentPaid && (o.Payments[0].ChannelTradeNo != "2026T1" || !o.Payments[0].PaidAt.Equal(paidAt)) {
				t.Errorf("%s: attempt %+v", c.name, o.Payments[0])
			}
		}
	})
}

var errRolledBack = errors.New("rolled back")

// PlacePackageOrder writes the order, its line and its attempt as
// InsertOrder and InsertPayment would, or nothing at all when the package
// changed; it takes only an order of one package line.
func TestPlacePackageOrder(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		pkg := &cashier.Package{Name: "Gold pack", Price: 600, Active: true}
		must(t, db.Update(ctx, func(tx cashier.Tx) error { return tx.InsertPackage(ctx, pkg) }))
		order := func(price int64) (*cashier.Order, *cashier.Payment) {
			o := newOrder("u1")
			o.Amount, o.Discount, o.Payable, o.Remarks = price, 0, price, "gift"
			o.Items = []cashier.LineItem{{PackageID: pkg.ID, Name: "Gold pack", UnitPrice: price, Count: 1}}
			p := &cashier.Payment{OutTradeNo: fmt.Sprint("ALI-place-", price), Channel: "alipay", Gateway: "app", Amount: price,
				Status: cashier.PaymentPending, Credential: []byte(`"app_id=1"`), CreatedAt: t0, PollAt: t0.Add(2 * time.Minute)}
			return o, p
		}
		o, p := order(600)
		must(t, db.PlacePackageOrder(ctx, o, p))
		if o.ID == 0 || p.ID == 0 || p.OrderID != o.ID || o.Items[0].ID == 0 {
			t.Fatalf("ids not set: order %d, payment %d for %d, line %d", o.ID, p.ID, p.OrderID, o.Items[0].ID)
		}
		var got *cashier.Order
		must(t, db.View(ctx, func(tx cashier.Tx) (err error) { got, err = tx.Order(ctx, o.ID); return err }))
		if got.UserID != "u1" || got.Payable != 600 || got.Status != cashier.OrderPending || got.Remarks != "gift" ||
			!got.CreatedAt.Equal(t0) || !got.ExpiresAt.Equal(o.ExpiresAt) || got.Address != nil {
			t.Errorf("order read back: %+v", got)
		}
		if len(got.Items) != 1 || got.Items[0].PackageID != pkg.ID || got.Items[0].Total() != 600 || got.Items[0].Name != "Gold pack" {
			t.Errorf("line read back: %+v", got.Items)
		}
		if len(got.Payments) != 1 || got.Payments[0].OutTradeNo != p.OutTradeNo || string(got.Payments[0].Credential) != `"app_id=1"` ||
			got.Payments[0].Status != cashier.PaymentPending || !got.Payments[0].CreatedAt.Equal(t0) {
			t.Errorf("attempt read back: %+v", got.Payments)
		}
		// The poll time was written: the sweep finds the attempt when due.
		var polls []int64
		must(t, db.Update(ctx, func(tx cashier.Tx) (err error) {
			polls, err = tx.ClaimDuePolls(ctx, t0.Add(3*time.Minute), 10)
			return err
		}))
		if len(polls) != 1 || polls[0] != p.ID {
			t.Errorf("due polls %v, want [%d]", polls, p.ID)
		}

		stale, sp := order(500)
		if err := db.PlacePackageOrder(ctx, stale, sp); !errors.Is(err, cashier.ErrPackageChanged) {
			t.Errorf("a stale price: %v", err)
		}
		var orders, payments int
		db.SQL().QueryRow("SELECT COUNT(*) FROM orders").Scan(&orders)
		db.SQL().QueryRow("SELECT COUNT(*) FROM payments").Scan(&payments)
		if orders != 1 || payments != 1 {
			t.Errorf("after the refusal: %d orders, %d payments; want 1 and 1", orders, payments)
		}
		two, tp := order(600)
		two.Items = append(two.Items, two.Items[0])
		if err := db.PlacePackageOrder(ctx, two, tp); err == nil {
			t.Error("an order of two lines was placed")
		}
	})
}
