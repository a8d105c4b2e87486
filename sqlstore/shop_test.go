package sqlstore_test

import (
	"context"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cashier"
	"cashier/sqlstore"
	"cashier/sqlstore/storetest"
)

// newProduct writes a product with two standards, the first with stock.
func newProduct(t *testing.T, db *sqlstore.DB, stock int64) *cashier.Product {
	t.Helper()
	p := &cashier.Product{Name: "Mug", Active: true, Standards: []cashier.Standard{
		{Name: "Red", Price: 1999, Stock: stock},
		{Name: "Blue", Price: 2099},
	}}
	ctx := context.Background()
	must(t, db.Update(ctx, func(tx cashier.Tx) error { return tx.InsertProduct(ctx, p) }))
	return p
}

func TestProductsAndStandards(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		p := newProduct(t, db, 5)
		hidden := &cashier.Product{Name: "Retired", Active: false, Standards: []cashier.Standard{{Name: "Any", Price: 100, Stock: 1}}}
		empty := &cashier.Product{Name: "Soon", Active: true}
		extra := &cashier.Standard{Name: "Green", Price: 2199, Stock: 7}
		must(t, db.Update(ctx, func(tx cashier.Tx) error {
			if err := tx.InsertProduct(ctx, hidden); err != nil {
				return err
			}
			if err := tx.InsertProduct(ctx, empty); err != nil {
				return err
			}
			extra.ProductID = p.ID
			return tx.InsertStandard(ctx, extra)
		}))
		if p.ID == 0 || p.Standards[0].ID == 0 || p.Standards[1].ID <= p.Standards[0].ID || p.Standards[1].ProductID != p.ID {
			t.Fatalf("ids not set: %+v", p)
		}
		want := *p
		want.Standards = append(append([]cashier.Standard(nil), p.Standards...), *extra)

		must(t, db.View(ctx, func(tx cashier.Tx) error {
			got, err := tx.Product(ctx, p.ID)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("Product = %+v\nwant %+v", *got, want)
			}
			got, err = tx.Product(ctx, hidden.ID)
			if err != nil || got.Active || len(got.Standards) != 1 {
				t.Errorf("inactive Product = %+v, %v", got, err)
			}
			list, err := tx.Products(ctx)
			if err != nil {
				return err
			}
			if len(list) != 2 || !reflect.DeepEqual(list[0], want) || list[1].ID != empty.ID || len(list[1].Standards) != 0 {
				t.Errorf("Products = %+v", list)
			}
			s, err := tx.Standard(ctx, extra.ID)
			if err != nil || *s != *extra {
				t.Errorf("Standard = %+v, %v; want %+v", s, err, extra)
			}
			return nil
		}))
	})
}

func TestShopNotFound(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		must(t, db.Update(ctx, func(tx cashier.Tx) error {
			check := func(name string, err error) { t.Helper(); wantNotFound(t, name, err) }
			_, err := tx.Product(ctx, 1)
			check("Product", err)
			_, err = tx.Standard(ctx, 1)
			check("Standard", err)
			check("SetStock", tx.SetStock(ctx, 1, 3))
			check("ReleaseStock", tx.ReleaseStock(ctx, 1, 3))
			_, err = tx.Scheme(ctx, 1)
			check("Scheme", err)
			_, err = tx.CartItem(ctx, 1)
			check("CartItem", err)
			_, err = tx.Address(ctx, 1)
			check("Address", err)
			ok, err := tx.ReserveStock(ctx, 1, 1)
			if ok || err != nil {
				t.Errorf("ReserveStock of a missing standard = %v, %v", ok, err)
			}
			return nil
		}))
	})
}

func stockOf(t *testing.T, db *sqlstore.DB, id int64) int64 {
	t.Helper()
	var s *cashier.Standard
	must(t, db.View(context.Background(), func(tx cashier.Tx) (err error) {
		s, err = tx.Standard(context.Background(), id)
		return err
	}))
	return s.Stock
}

func TestStock(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		id := newProduct(t, db, 3).Standards[0].ID
		must(t, db.Update(ctx, func(tx cashier.Tx) error {
			for _, tc := range []struct {
				n    int64
				want bool
			}{{2, true}, {2, false}, {1, true}, {1, false}} {
				ok, err := tx.ReserveStock(ctx, id, tc.n)
				if err != nil || ok != tc.want {
					t.Errorf("ReserveStock(%d) = %v, %v; want %v", tc.n, ok, err, tc.want)
				}
			}
			for _, n := range []int64{0, -1} {
				if ok, err := tx.ReserveStock(ctx, id, n); ok || cashier.ErrorCode(err) != cashier.EINVALID {
					t.Errorf("ReserveStock(%d) = %v, %v; want invalid", n, ok, err)
				}
				if err := tx.ReleaseStock(ctx, id, n); cashier.ErrorCode(err) != cashier.EINVALID {
					t.Errorf("ReleaseStock(%d) = %v; want invalid", n, err)
				}
			}
			return tx.ReleaseStock(ctx, id, 2)
		}))
		if got := stockOf(t, db, id); got != 2 {
			t.Errorf("stock after release = %d, want 2", got)
		}
		err := db.Update(ctx, func(tx cashier.Tx) error { return tx.SetStock(ctx, id, -1) })
		if cashier.ErrorCode(err) != cashier.EINVALID {
			t.Errorf("SetStock(-1) = %v, want invalid", err)
		}
		err = db.Update(ctx, func(tx cashier.Tx) error {
			return tx.InsertStandard(ctx, &cashier.Standard{ProductID: 1, Name: "X", Price: 1, Stock: -1})
		})
		if cashier.ErrorCode(err) != cashier.EINVALID {
			t.Errorf("InsertStandard with stock -1 = %v, want invalid", err)
		}
		must(t, db.Update(ctx, func(tx cashier.Tx) error { return tx.SetStock(ctx, id, 0) }))
		if got := stockOf(t, db, id); got != 0 {
			t.Errorf("stock after SetStock(0) = %d", got)
		}
		must(t, db.Update(ctx, func(tx cashier.Tx) error { return tx.SetStock(ctx, id, 10) }))
		if got := stockOf(t, db, id); got != 10 {
			t.Errorf("stock after SetStock(10) = %d", got)
		}
		// The database refuses a negative stock even behind the store's back.
		_, err = db.SQL().ExecContext(ctx, "UPDATE standards SET stock = -1")
		if err == nil {
			t.Error("negative stock accepted by the database")
		}
	})
}

// 50 buyers race for a stock of 10, each in its own transaction: exactly 10
// get one, and the stock ends at 0, never below.
func TestReserveStockRace(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		id := newProduct(t, db, 10).Standards[0].ID
		var wins atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				err := db.Update(ctx, func(tx cashier.Tx) error {
					ok, err := tx.ReserveStock(ctx, id, 1)
					if err != nil {
						return err
					}
					if ok {
						wins.Add(1)
					}
					s, err := tx.Standard(ctx, id)
					if err != nil {
						return err
					}
					if s.Stock < 0 {
						t.Errorf("stock %d inside a transaction", s.Stock)
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
			t.Errorf("%d reservations succeeded, want 10", wins.Load())
		}
		if got := stockOf(t, db, id); got != 0 {
			t.Errorf("stock = %d, want 0", got)
		}
	})
}

func TestSchemes(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		a := &cashier.Scheme{UserID: "u1", Name: "Wedding album", Price: 29900}
		b := &cashier.Scheme{UserID: "u1", Name: "Poster", Price: 4900}
		c := &cashier.Scheme{UserID: "u2", Name: "Other", Price: 100}
		must(t, db.Update(ctx, func(tx cashier.Tx) error {
			for _, s := range []*cashier.Scheme{a, b, c} {
				if err := tx.InsertScheme(ctx, s); err != nil {
					return err
				}
			}
			return nil
		}))
		must(t, db.View(ctx, func(tx cashier.Tx) error {
			got, err := tx.Scheme(ctx, b.ID)
			if err != nil || *got != *b {
				t.Errorf("Scheme = %+v, %v; want %+v", got, err, b)
			}
			list, err := tx.SchemesByUser(ctx, "u1")
			if err != nil || !reflect.DeepEqual(list, []cashier.Scheme{*a, *b}) {
				t.Errorf("SchemesByUser = %+v, %v", list, err)
			}
			return nil
		}))
		err := db.Update(ctx, func(tx cashier.Tx) error {
			return tx.InsertScheme(ctx, &cashier.Scheme{UserID: "u1", Name: "Free", Price: 0})
		})
		if err == nil {
			t.Error("scheme with price 0 accepted")
		}
	})
}

func TestCart(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		p := newProduct(t, db, 100)
		red, blue := p.Standards[0], p.Standards[1]
		add := func(user string, s cashier.Standard, n int64, at time.Time) *cashier.CartItem {
			t.Helper()
			item := &cashier.CartItem{UserID: user, ProductID: s.ProductID, StandardID: s.ID, Count: n, CreatedAt: at}
			must(t, db.Update(ctx, func(tx cashier.Tx) error { return tx.AddToCart(ctx, item) }))
			return item
		}
		r1 := add("u1", red, 2, t0)
		r2 := add("u1", red, 3, t0.Add(time.Hour))
		b1 := add("u1", blue, 1, t0.Add(2*time.Hour))
		o1 := add("u2", red, 4, t0)
		if r1.ID == 0 || r2.ID != r1.ID || r2.Count != 5 || !r2.CreatedAt.Equal(t0) {
			t.Errorf("merged line = %+v, first %+v", r2, r1)
		}
		if b1.ID == r1.ID || b1.Count != 1 || o1.ID == r1.ID || o1.Count != 4 {
			t.Errorf("separate lines = %+v, %+v", b1, o1)
		}
		must(t, db.View(ctx, func(tx cashier.Tx) error {
			got, err := tx.CartItem(ctx, r1.ID)
			if err != nil || *got != *r2 {
				t.Errorf("CartItem = %+v, %v; want %+v", got, err, r2)
			}
			list, err := tx.CartItemsByUser(ctx, "u1")
			if err != nil || !reflect.DeepEqual(list, []cashier.CartItem{*r2, *b1}) {
				t.Errorf("CartItemsByUser = %+v, %v", list, err)
			}
			return nil
		}))
		err := db.Update(ctx, func(tx cashier.Tx) error {
			return tx.AddToCart(ctx, &cashier.CartItem{UserID: "u1", ProductID: p.ID, StandardID: red.ID, Count: 0, CreatedAt: t0})
		})
		if cashier.ErrorCode(err) != cashier.EINVALID {
			t.Errorf("AddToCart count 0 = %v, want invalid", err)
		}

		must(t, db.Update(ctx, func(tx cashier.Tx) error {
			check := func(name string, got, want bool, err error) {
				t.Helper()
				if err != nil || got != want {
					t.Errorf("%s = %v, %v; want %v", name, got, err, want)
				}
			}
			ok, err := tx.SetCartItemCount(ctx, "u1", r1.ID, 9)
			check("set own", ok, true, err)
			ok, err = tx.SetCartItemCount(ctx, "u1", r1.ID, 9)
			check("set own to the same", ok, true, err)
			ok, err = tx.SetCartItemCount(ctx, "u2", r1.ID, 1)
			check("set another's", ok, false, err)
			ok, err = tx.SetCartItemCount(ctx, "u1", 9999, 1)
			check("set missing", ok, false, err)
			if _, err := tx.SetCartItemCount(ctx, "u1", r1.ID, 0); cashier.ErrorCode(err) != cashier.EINVALID {
				t.Errorf("set count 0 = %v, want invalid", err)
			}
			c, err := tx.CartItem(ctx, r1.ID)
			if err != nil || c.Count != 9 {
				t.Errorf("after set: %+v, %v", c, err)
			}

			if n, err := tx.DeleteCartItems(ctx, "u1", nil); n != 0 || err != nil {
				t.Errorf("delete none = %d, %v", n, err)
			}
			// u2 cannot delete u1's lines; u1 removes its own among mixed ids.
			if n, err := tx.DeleteCartItems(ctx, "u2", []int64{r1.ID, b1.ID}); n != 0 || err != nil {
				t.Errorf("delete another's = %d, %v", n, err)
			}
			if n, err := tx.DeleteCartItems(ctx, "u1", []int64{r1.ID, o1.ID, 9999}); n != 1 || err != nil {
				t.Errorf("delete own = %d, %v; want 1", n, err)
			}
			return nil
		}))
		must(t, db.View(ctx, func(tx cashier.Tx) error {
			list, err := tx.CartItemsByUser(ctx, "u1")
			if err != nil || len(list) != 1 || list[0].ID != b1.ID {
				t.Errorf("u1 cart after delete = %+v, %v", list, err)
			}
			list, err = tx.CartItemsByUser(ctx, "u2")
			if err != nil || len(list) != 1 || list[0] != *o1 {
				t.Errorf("u2 cart = %+v, %v", list, err)
			}
			return nil
		}))
		// Many ids in one call.
		var ids []int64
		for i := range 1200 {
			ids = append(ids, int64(i+1))
		}
		var n int64
		must(t, db.Update(ctx, func(tx cashier.Tx) (err error) {
			n, err = tx.DeleteCartItems(ctx, "u1", ids)
			return err
		}))
		if n != 1 {
			t.Errorf("delete of 1200 ids removed %d, want 1", n)
		}
	})
}

func addresses(t *testing.T, db *sqlstore.DB, user string) []cashier.Address {
	t.Helper()
	var list []cashier.Address
	must(t, db.View(context.Background(), func(tx cashier.Tx) (err error) {
		list, err = tx.AddressesByUser(context.Background(), user)
		return err
	}))
	return list
}

// defaults lists the ids of the user's default addresses.
func defaults(t *testing.T, db *sqlstore.DB, user string) []int64 {
	t.Helper()
	var ids []int64
	for _, a := range addresses(t, db, user) {
		if a.IsDefault {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

func TestAddresses(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		insert := func(a *cashier.Address) {
			t.Helper()
			must(t, db.Update(ctx, func(tx cashier.Tx) error { return tx.InsertAddress(ctx, a) }))
		}
		other := &cashier.Address{UserID: "u2", Name: "Li Lei", Phone: "13900000000", Region: "Beijing", Detail: "1 Chang'an St", IsDefault: true}
		insert(other)
		a := &cashier.Address{UserID: "u1", Name: "Han Meimei", Phone: "13800000000", Region: "Shanghai Pudong", Detail: "8 Century Ave", IsDefault: true}
		insert(a)
		b := &cashier.Address{UserID: "u1", Name: "Han Meimei", Phone: "13800000000", Region: "Hangzhou", Detail: "West Lake", IsDefault: true}
		insert(b)
		c := &cashier.Address{UserID: "u1", Name: "Office", Phone: "021-1234", Region: "Shanghai", Detail: "Room 1"}
		insert(c)
		if got := defaults(t, db, "u1"); !reflect.DeepEqual(got, []int64{b.ID}) {
			t.Errorf("defaults after inserting B = %v, want [%d]", got, b.ID)
		}
		a.IsDefault = false
		if got := addresses(t, db, "u1"); !reflect.DeepEqual(got, []cashier.Address{*a, *b, *c}) {
			t.Errorf("AddressesByUser = %+v", got)
		}

		must(t, db.Update(ctx, func(tx cashier.Tx) error {
			check := func(name string, got, want bool, err error) {
				t.Helper()
				if err != nil || got != want {
					t.Errorf("%s = %v, %v; want %v", name, got, err, want)
				}
			}
			ok, err := tx.SetDefaultAddress(ctx, "u1", a.ID)
			check("set default A", ok, true, err)
			ok, err = tx.SetDefaultAddress(ctx, "u1", a.ID)
			check("set default A again", ok, true, err)
			// Neither a stranger nor a missing address takes the default from A.
			ok, err = tx.SetDefaultAddress(ctx, "u2", a.ID)
			check("set default A by u2", ok, false, err)
			ok, err = tx.SetDefaultAddress(ctx, "u1", other.ID)
			check("set default of u2's address by u1", ok, false, err)
			ok, err = tx.SetDefaultAddress(ctx, "u1", 9999)
			check("set default missing", ok, false, err)
			ok, err = tx.UpdateAddress(ctx, &cashier.Address{ID: 9999, UserID: "u1", Name: "X", IsDefault: true})
			check("update missing", ok, false, err)
			ok, err = tx.UpdateAddress(ctx, &cashier.Address{ID: other.ID, UserID: "u1", Name: "X", IsDefault: true})
			check("update another's", ok, false, err)
			return nil
		}))
		if got := defaults(t, db, "u1"); !reflect.DeepEqual(got, []int64{a.ID}) {
			t.Errorf("defaults after SetDefaultAddress(A) = %v, want [%d]", got, a.ID)
		}

		// Updating C as the default takes it from A; updating A without it
		// keeps C the default; updating C without it leaves none.
		c2 := *c
		c2.Detail, c2.IsDefault = "Room 2", true
		var ok bool
		must(t, db.Update(ctx, func(tx cashier.Tx) (err error) {
			ok, err = tx.UpdateAddress(ctx, &c2)
			return err
		}))
		if got := defaults(t, db, "u1"); !ok || !reflect.DeepEqual(got, []int64{c.ID}) {
			t.Errorf("defaults after UpdateAddress(C default) = %v, %v", got, ok)
		}
		a2 := *a
		a2.Phone = "13811111111"
		must(t, db.Update(ctx, func(tx cashier.Tx) (err error) {
			ok, err = tx.UpdateAddress(ctx, &a2)
			return err
		}))
		var gotA, gotC *cashier.Address
		must(t, db.View(ctx, func(tx cashier.Tx) (err error) {
			if gotA, err = tx.Address(ctx, a.ID); err != nil {
				return err
			}
			gotC, err = tx.Address(ctx, c.ID)
			return err
		}))
		if !ok || *gotA != a2 || *gotC != c2 {
			t.Errorf("after updates: A = %+v, C = %+v, %v", gotA, gotC, ok)
		}
		c2.IsDefault = false
		must(t, db.Update(ctx, func(tx cashier.Tx) (err error) {
			ok, err = tx.UpdateAddress(ctx, &c2)
			return err
		}))
		if got := defaults(t, db, "u1"); !ok || len(got) != 0 {
			t.Errorf("defaults after UpdateAddress(C not default) = %v, %v", got, ok)
		}

		must(t, db.Update(ctx, func(tx cashier.Tx) error {
			if ok, err := tx.DeleteAddress(ctx, "u2", b.ID); ok || err != nil {
				t.Errorf("u2 deletes u1's address = %v, %v", ok, err)
			}
			if ok, err := tx.DeleteAddress(ctx, "u1", b.ID); !ok || err != nil {
				t.Errorf("u1 deletes B = %v, %v", ok, err)
			}
			if ok, err := tx.DeleteAddress(ctx, "u1", b.ID); ok || err != nil {
				t.Errorf("u1 deletes B again = %v, %v", ok, err)
			}
			return nil
		}))
		if got := addresses(t, db, "u1"); len(got) != 2 || got[0].ID != a.ID || got[1].ID != c.ID {
			t.Errorf("u1 addresses after delete = %+v", got)
		}
		// Through all of it, u2's address stayed as it was.
		if got := addresses(t, db, "u2"); !reflect.DeepEqual(got, []cashier.Address{*other}) {
			t.Errorf("u2 addresses = %+v, want %+v", got, *other)
		}
		// The database itself refuses a second default.
		_, err := db.SQL().ExecContext(ctx, "UPDATE addresses SET is_default = TRUE WHERE user_id = 'u1'")
		if err == nil {
			t.Error("two defaults accepted by the database")
		}
	})
}

func TestShopOrderRoundTrip(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		addr := &cashier.Address{ID: 7, UserID: "u1", Name: "韩梅梅", Phone: "13800000000",
			Region: "上海市 浦东新区", Detail: "世纪大道 8 号 \"A\" 座", IsDefault: true}
		delivery := time.Date(2026, 12, 24, 18, 0, 0, 0, time.FixedZone("CST", 8*3600))
		o := &cashier.Order{
			UserID: "u1", Kind: cashier.KindCart, Status: cashier.OrderPending, Subject: "Mug and album",
			Amount: 3998 + 29900, Payable: 3998 + 29900, Remarks: "ring twice", Address: addr,
			CreatedAt: t0, ExpiresAt: t0.Add(30 * time.Minute),
			Items: []cashier.LineItem{
				{ProductID: 3, StandardID: 4, Name: "Mug Red", UnitPrice: 1999, Count: 2, Remarks: "gift wrap"},
				{SchemeID: 5, DeliveryTime: delivery, Name: "Wedding album", UnitPrice: 29900, Count: 1},
			},
		}
		plain := newOrder("u1")
		must(t, db.Update(ctx, func(tx cashier.Tx) error {
			if err := tx.InsertOrder(ctx, o); err != nil {
				return err
			}
			return tx.InsertOrder(ctx, plain)
		}))
		addr.Name = "changed after the order"

		var got *cashier.Order
		var list []cashier.Order
		must(t, db.View(ctx, func(tx cashier.Tx) (err error) {
			if got, err = tx.Order(ctx, o.ID); err != nil {
				return err
			}
			list, err = tx.OrdersByUser(ctx, "u1", cashier.OrderFilter{})
			return err
		}))
		wantAddr := *addr
		wantAddr.Name = "韩梅梅"
		if got.Address == nil || *got.Address != wantAddr {
			t.Errorf("address = %+v, want %+v", got.Address, wantAddr)
		}
		if got.Remarks != "ring twice" || got.Kind != cashier.KindCart {
			t.Errorf("order = %+v", got)
		}
		want := []cashier.LineItem{o.Items[0], o.Items[1]}
		want[1].DeliveryTime = delivery.UTC()
		if !reflect.DeepEqual(got.Items, want) {
			t.Errorf("items = %+v\nwant %+v", got.Items, want)
		}
		if !got.Items[1].DeliveryTime.Equal(delivery) || !got.Items[0].DeliveryTime.IsZero() {
			t.Errorf("delivery times %v, %v", got.Items[0].DeliveryTime, got.Items[1].DeliveryTime)
		}
		if len(list) != 2 || list[0].ID != plain.ID || list[0].Address != nil ||
			list[1].ID != o.ID || list[1].Address == nil || *list[1].Address != wantAddr || !reflect.DeepEqual(list[1].Items, want) {
			t.Errorf("OrdersByUser = %+v", list)
		}
		// An order without an address stores ''.
		var raw string
		if err := db.SQL().QueryRowContext(ctx, "SELECT address FROM orders WHERE id = "+strconv.FormatInt(plain.ID, 10)).Scan(&raw); err != nil || raw != "" {
			t.Errorf("stored address of a package order = %q, %v", raw, err)
		}
	})
}
