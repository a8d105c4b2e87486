package checkout

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"cashier"
)

// The shop's use cases (seed 000): buying a product, checking out the cart,
// ordering a customized scheme, and the settlement page before each. They
// price line items and then place the order exactly as the order API does.

// ProductOrderRequest buys count units of one standard of a product.
type ProductOrderRequest struct {
	UserID     string
	ProductID  int64
	StandardID int64
	Count      int64
	AddressID  int64
	Remarks    string
	PayRequest
}

// CartLine names one cart line to check out, with the buyer's remarks on it.
type CartLine struct {
	CartID  int64  `json:"cart_id"`
	Remarks string `json:"user_remarks"`
}

// CartOrderRequest checks out some lines of the user's cart as one order.
type CartOrderRequest struct {
	UserID    string
	Lines     []CartLine
	AddressID int64
	PayRequest
}

// SchemeOrderRequest orders count units of a customized scheme, delivered at
// DeliveryTime.
type SchemeOrderRequest struct {
	UserID       string
	SchemeID     int64
	Count        int64
	DeliveryTime time.Time
	AddressID    int64
	Remarks      string
	PayRequest
}

// BuyProduct creates a product order: one line, its stock reserved.
func (s *Service) BuyProduct(ctx context.Context, req ProductOrderRequest) (*Purchase, error) {
	return s.placeShopOrder(ctx, req.UserID, cashier.KindProduct, req.AddressID, req.PayRequest, nil,
		func(tx cashier.Tx) ([]cashier.LineItem, error) {
			li, err := productLine(ctx, tx, req.ProductID, req.StandardID, req.Count)
			li.Remarks = req.Remarks
			return []cashier.LineItem{li}, err
		})
}

// CheckoutCart creates ONE order with a line per cart line, and removes those
// cart lines in the same transaction; a failed checkout removes nothing.
func (s *Service) CheckoutCart(ctx context.Context, req CartOrderRequest) (*Purchase, error) {
	ids, err := cartIDs(req.Lines)
	if err != nil {
		return nil, err
	}
	return s.placeShopOrder(ctx, req.UserID, cashier.KindCart, req.AddressID, req.PayRequest, ids,
		func(tx cashier.Tx) ([]cashier.LineItem, error) { return cartLines(ctx, tx, req.UserID, req.Lines) })
}

// BuildCustomized creates a customized order for one of the user's schemes.
func (s *Service) BuildCustomized(ctx context.Context, req SchemeOrderRequest) (*Purchase, error) {
	now := s.now()
	return s.placeShopOrder(ctx, req.UserID, cashier.KindCustomized, req.AddressID, req.PayRequest, nil,
		func(tx cashier.Tx) ([]cashier.LineItem, error) {
			li, err := schemeLine(ctx, tx, req.UserID, req.SchemeID, req.Count, req.DeliveryTime, now)
			li.Remarks = req.Remarks
			return []cashier.LineItem{li}, err
		})
}

// placeShopOrder checks the channel, prices the lines and the address, and places the order.
func (s *Service) placeShopOrder(ctx context.Context, userID string, kind cashier.OrderKind, addressID int64,
	pay PayRequest, cartIDs []int64, lines func(cashier.Tx) ([]cashier.LineItem, error)) (*Purchase, error) {
	if userID == "" {
		return nil, cashier.Errorf(cashier.EUNAUTHORIZED, "sign in first")
	}
	ch, err := s.channelGateway(pay.Channel, pay.Gateway)
	if err != nil {
		return nil, err
	}
	if addressID <= 0 {
		return nil, cashier.Errorf(cashier.EINVALID, "area_id (the shipping address) is required")
	}
	now := s.now()
	order := &cashier.Order{UserID: userID, Kind: kind, Status: cashier.OrderPending, CreatedAt: now, ExpiresAt: now.Add(s.orderTTL)}
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		if order.Items, err = lines(tx); err != nil {
			return err
		}
		order.Address, err = userAddress(ctx, tx, userID, addressID)
		return err
	})
	if err != nil {
		return nil, err
	}
	order.Amount = total(order.Items)
	order.Payable = order.Amount
	order.Subject = subject(order.Items)
	return s.place(ctx, ch, order, cartIDs, pay, now)
}

// Settlement is what the checkout page shows before the buyer pays.
type Settlement struct {
	Items   []cashier.LineItem
	Amount  int64
	Payable int64
	// Address is the default address, else the only one; nil when the user has
	// none to choose from, and AddressNote then says what to do.
	Address     *cashier.Address
	AddressNote string
}

// SettleProduct prices buying a product.
func (s *Service) SettleProduct(ctx context.Context, userID string, productID, standardID, count int64) (*Settlement, error) {
	return s.settle(ctx, userID, func(tx cashier.Tx) ([]cashier.LineItem, error) {
		li, err := productLine(ctx, tx, productID, standardID, count)
		return []cashier.LineItem{li}, err
	})
}

// SettleCart prices checking out cart lines.
func (s *Service) SettleCart(ctx context.Context, userID string, lines []CartLine) (*Settlement, error) {
	if _, err := cartIDs(lines); err != nil {
		return nil, err
	}
	return s.settle(ctx, userID, func(tx cashier.Tx) ([]cashier.LineItem, error) { return cartLines(ctx, tx, userID, lines) })
}

// SettleScheme prices ordering a customized scheme.
func (s *Service) SettleScheme(ctx context.Context, userID string, schemeID, count int64) (*Settlement, error) {
	return s.settle(ctx, userID, func(tx cashier.Tx) ([]cashier.LineItem, error) {
		li, err := schemeLine(ctx, tx, userID, schemeID, count, time.Time{}, time.Time{})
		return []cashier.LineItem{li}, err
	})
}

func (s *Service) settle(ctx context.Context, userID string, lines func(cashier.Tx) ([]cashier.LineItem, error)) (st *Settlement, err error) {
	st = &Settlement{}
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		if st.Items, err = lines(tx); err != nil {
			return err
		}
		st.Address, err = settlementAddress(ctx, tx, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	st.Amount = total(st.Items)
	st.Payable = st.Amount
	if st.Address == nil {
		st.AddressNote = "no shipping address: add one, or mark one as the default"
	}
	return st, nil
}

// settlementAddress is the address a checkout page starts with: the default
// one, else the user's only address, else none (with several and none marked
// default, the buyer must choose).
func settlementAddress(ctx context.Context, tx cashier.Tx, userID string) (*cashier.Address, error) {
	list, err := tx.AddressesByUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].IsDefault {
			return &list[i], nil
		}
	}
	if len(list) == 1 {
		return &list[0], nil
	}
	return nil, nil
}

// userAddress is the user's address id; another user's is not found.
func userAddress(ctx context.Context, tx cashier.Tx, userID string, id int64) (*cashier.Address, error) {
	a, err := tx.Address(ctx, id)
	if err != nil || a.UserID != userID {
		return nil, cashier.Errorf(cashier.ENOTFOUND, "address %d not found", id)
	}
	return a, nil
}

// maxRemarks bounds the buyer's remarks on a line.
const maxRemarks = 500

func checkCount(count int64) error {
	if count < 1 || count > cashier.MaxCount {
		return cashier.Errorf(cashier.EINVALID, "count must be between 1 and %d, not %d", cashier.MaxCount, count)
	}
	return nil
}

// productLine prices count units of a standard of a product, if in stock.
func productLine(ctx context.Context, tx cashier.Tx, productID, standardID, count int64) (cashier.LineItem, error) {
	if productID <= 0 || standardID <= 0 {
		return cashier.LineItem{}, cashier.Errorf(cashier.EINVALID, "product_id and standard_id are required")
	}
	if err := checkCount(count); err != nil {
		return cashier.LineItem{}, err
	}
	p, err := tx.Product(ctx, productID)
	if err != nil || !p.Active {
		return cashier.LineItem{}, cashier.Errorf(cashier.ENOTFOUND, "product %d not found", productID)
	}
	for _, st := range p.Standards {
		if st.ID != standardID {
			continue
		}
		name := p.Name + " " + st.Name
		if st.Stock < count {
			return cashier.LineItem{}, cashier.Errorf(cashier.ECONFLICT, "%s is out of stock (%d left)", name, st.Stock)
		}
		return cashier.LineItem{ProductID: p.ID, StandardID: st.ID, Name: name, UnitPrice: st.Price, Count: count}, nil
	}
	return cashier.LineItem{}, cashier.Errorf(cashier.ENOTFOUND, "product %d has no standard %d", productID, standardID)
}

// cartIDs checks a cart selection: not empty, no line twice.
func cartIDs(lines []CartLine) ([]int64, error) {
	if len(lines) == 0 {
		return nil, cashier.Errorf(cashier.EINVALID, "cart_array is empty: choose the cart lines to check out")
	}
	if len(lines) > 100 {
		return nil, cashier.Errorf(cashier.EINVALID, "cart_array has %d lines: at most 100 at once", len(lines))
	}
	seen := map[int64]bool{}
	ids := make([]int64, 0, len(lines))
	for _, l := range lines {
		if l.CartID <= 0 {
			return nil, cashier.Errorf(cashier.EINVALID, "cart_id must be a positive integer")
		}
		if utf8.RuneCountInString(l.Remarks) > maxRemarks {
			return nil, cashier.Errorf(cashier.EINVALID, "user_remarks of cart line %d is longer than %d characters", l.CartID, maxRemarks)
		}
		if seen[l.CartID] {
			return nil, cashier.Errorf(cashier.EINVALID, "cart line %d is listed twice", l.CartID)
		}
		seen[l.CartID] = true
		ids = append(ids, l.CartID)
	}
	return ids, nil
}

// cartLines prices the user's cart lines.
func cartLines(ctx context.Context, tx cashier.Tx, userID string, lines []CartLine) ([]cashier.LineItem, error) {
	items := make([]cashier.LineItem, 0, len(lines))
	for _, l := range lines {
		ci, err := tx.CartItem(ctx, l.CartID)
		if err != nil || ci.UserID != userID {
			return nil, cashier.Errorf(cashier.ENOTFOUND, "cart line %d not found", l.CartID)
		}
		li, err := productLine(ctx, tx, ci.ProductID, ci.StandardID, ci.Count)
		if err != nil {
			return nil, err
		}
		li.Remarks = l.Remarks
		items = append(items, li)
	}
	return items, nil
}

// schemeLine prices count units of one of the user's schemes. A zero now
// skips the delivery time check (settlement has none yet).
func schemeLine(ctx context.Context, tx cashier.Tx, userID string, schemeID, count int64, delivery, now time.Time) (cashier.LineItem, error) {
	if schemeID <= 0 {
		return cashier.LineItem{}, cashier.Errorf(cashier.EINVALID, "scheme_id is required")
	}
	if err := checkCount(count); err != nil {
		return cashier.LineItem{}, err
	}
	sc, err := tx.Scheme(ctx, schemeID)
	if err != nil || sc.UserID != userID {
		return cashier.LineItem{}, cashier.Errorf(cashier.ENOTFOUND, "scheme %d not found", schemeID)
	}
	if !now.IsZero() {
		if delivery.IsZero() {
			return cashier.LineItem{}, cashier.Errorf(cashier.EINVALID, "delivery_time is required")
		}
		if !delivery.After(now) {
			return cashier.LineItem{}, cashier.Errorf(cashier.EUNPROCESSABLE, "delivery_time %s is in the past", delivery.UTC().Format(time.RFC3339))
		}
	}
	return cashier.LineItem{SchemeID: sc.ID, Name: sc.Name, UnitPrice: sc.Price, Count: count, DeliveryTime: delivery}, nil
}

func total(items []cashier.LineItem) int64 {
	var n int64
	for _, li := range items {
		n += li.Total()
	}
	return n
}

// subject names an order on the channel's pay page.
func subject(items []cashier.LineItem) string {
	if len(items) == 1 {
		return items[0].Name
	}
	return fmt.Sprintf("%s and %d more", items[0].Name, len(items)-1)
}
