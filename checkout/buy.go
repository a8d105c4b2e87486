package checkout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"cashier"
)

// PayRequest names how the buyer pays.
type PayRequest struct {
	Channel  string
	Gateway  string
	ClientIP string
}

// BuyPackageRequest is the order API's POST /api/v1/order.
type BuyPackageRequest struct {
	UserID      string
	Source      string
	PackageID   int64
	CouponID    int64 // 0: none
	CostOrderID int64 // 0: not an upgrade
	PayRequest
}

// Purchase is an order with the attempt just created to pay it.
type Purchase struct {
	Order      *cashier.Order
	Payment    *cashier.Payment
	Credential *cashier.Credential
}

// BuyPackage creates a package order and its first payment attempt in one
// transaction, locking the coupon and the upgraded order it uses. Nothing is
// written when any check fails.
func (s *Service) BuyPackage(ctx context.Context, req BuyPackageRequest) (*Purchase, error) {
	if req.UserID == "" {
		return nil, cashier.Errorf(cashier.EUNAUTHORIZED, "sign in first")
	}
	if req.Source == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "source is required")
	}
	if len(req.Source) > 64 {
		return nil, cashier.Errorf(cashier.EINVALID, "source is longer than 64 characters")
	}
	if req.PackageID <= 0 {
		return nil, cashier.Errorf(cashier.EINVALID, "package_id is required")
	}
	ch, err := s.channelGateway(req.Channel, req.Gateway)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if err := s.releaseExpiredHolders(ctx, req, now); err != nil {
		return nil, err
	}
	p, err := s.buyPackage(ctx, ch, req, now)
	if errors.Is(err, cashier.ErrPackageChanged) {
		// Priced from a copy of the package that is no longer true.
		s.packages.forget(req.PackageID)
		p, err = s.buyPackage(ctx, ch, req, now)
	}
	return p, err
}

// buyPackage prices req and places the order.
func (s *Service) buyPackage(ctx context.Context, ch cashier.Channel, req BuyPackageRequest, now time.Time) (*Purchase, error) {
	var order *cashier.Order
	err := s.store.View(ctx, func(tx cashier.Tx) (err error) {
		order, err = s.priceOrder(ctx, tx, req, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.place(ctx, ch, order, nil, req.PayRequest, now)
}

// releaseExpiredHolders closes the expired pending orders that hold what req
// wants to use (its coupon, the order it upgrades), so that an abandoned order
// never keeps them from their owner.
func (s *Service) releaseExpiredHolders(ctx context.Context, req BuyPackageRequest, now time.Time) error {
	var holders []*cashier.Order
	err := s.store.View(ctx, func(tx cashier.Tx) error {
		var ids []int64
		if req.CouponID != 0 {
			if c, err := tx.Coupon(ctx, req.CouponID); err == nil && c.UserID == req.UserID && c.Status == cashier.CouponLocked {
				ids = append(ids, c.OrderID)
			}
		}
		if req.CostOrderID != 0 {
			if o, err := tx.Order(ctx, req.CostOrderID); err == nil && o.UserID == req.UserID && o.CostClaimedBy != 0 {
				ids = append(ids, o.CostClaimedBy)
			}
		}
		for _, id := range ids {
			o, err := tx.Order(ctx, id)
			if err != nil {
				return err
			}
			if o.Expired(now) {
				holders = append(holders, o)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, o := range holders {
		if err := s.close(ctx, o, "expired"); err != nil && cashier.ErrorCode(err) != cashier.ECONFLICT {
			return err
		}
	}
	return nil
}

// priceOrder builds the pending order of req with its amounts, checking the
// package, the coupon and the upgraded order.
func (s *Service) priceOrder(ctx context.Context, tx cashier.Tx, req BuyPackageRequest, now time.Time) (*cashier.Order, error) {
	pkg, err := s.packages.get(ctx, tx, req.PackageID, now)
	if err != nil {
		return nil, err
	}
	if !pkg.Active {
		return nil, cashier.Errorf(cashier.ENOTFOUND, "package %d not found", req.PackageID)
	}
	o := &cashier.Order{
		UserID: req.UserID, Kind: cashier.KindPackage, Status: cashier.OrderPending, Source: req.Source,
		Subject: pkg.Name, Amount: pkg.Price, CreatedAt: now, ExpiresAt: now.Add(s.orderTTL),
		Items: []cashier.LineItem{{PackageID: pkg.ID, Name: pkg.Name, UnitPrice: pkg.Price, Count: 1}},
	}
	if req.CostOrderID != 0 {
		cost, err := tx.Order(ctx, req.CostOrderID)
		if err != nil || cost.UserID != req.UserID {
			return nil, cashier.Errorf(cashier.ENOTFOUND, "cost order %d not found", req.CostOrderID)
		}
		if cost.Kind != cashier.KindPackage {
			return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "order %d is not a package order and cannot be upgraded", cost.ID)
		}
		if cost.Status != cashier.OrderPaid && cost.Status != cashier.OrderFulfilled {
			return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "order %d is %s: only a paid order can be upgraded", cost.ID, cost.Status)
		}
		if cost.CostClaimedBy != 0 {
			return nil, cashier.Errorf(cashier.ECONFLICT, "order %d was already used for an upgrade (order %d)", cost.ID, cost.CostClaimedBy)
		}
		if cost.PaidAmount >= pkg.Price {
			return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "package %d costs %s yuan, not more than the %s yuan paid for order %d: nothing to upgrade",
				pkg.ID, cashier.FormatYuan(pkg.Price), cashier.FormatYuan(cost.PaidAmount), cost.ID)
		}
		o.CostOrderID, o.CostCredit = cost.ID, cost.PaidAmount
	}
	var couponDiscount int64
	if req.CouponID != 0 {
		c, err := tx.Coupon(ctx, req.CouponID)
		if err != nil || c.UserID != req.UserID {
			return nil, cashier.Errorf(cashier.ENOTFOUND, "coupon %d not found", req.CouponID)
		}
		if st := c.StatusAt(now); st != cashier.CouponAvailable {
			return nil, cashier.Errorf(cashier.ECONFLICT, "coupon %d is %s", c.ID, st)
		}
		if pkg.Price < c.MinAmount {
			return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "coupon %d needs an order of at least %s yuan", c.ID, cashier.FormatYuan(c.MinAmount))
		}
		o.CouponID, couponDiscount = c.ID, c.Discount
	}
	o.Discount = o.CostCredit + couponDiscount
	o.Payable = o.Amount - o.Discount
	if o.Payable < 1 {
		return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "the discounts cover the whole price: nothing left to pay (payable must be at least 0.01 yuan)")
	}
	return o, nil
}

// prepare builds a payment attempt for order and asks the channel for its
// credential; nothing is written.
func (s *Service) prepare(ctx context.Context, ch cashier.Channel, o *cashier.Order, req PayRequest, now time.Time) (*cashier.Payment, *cashier.Credential, error) {
	outTradeNo, err := s.newOutTradeNo(ch.Name(), now)
	if err != nil {
		return nil, nil, err
	}
	pkg, err := s.ticketPackage(ctx, ch, o)
	if err != nil {
		return nil, nil, err
	}
	var product string
	if _, sells := ch.(cashier.PurchaseVerifier); sells {
		product = pkg.AppleProductID
	}
	cred, err := ch.Prepare(ctx, cashier.PrepareRequest{
		Gateway: req.Gateway, OutTradeNo: outTradeNo, Amount: o.Payable, Subject: o.Subject,
		ExpiresAt: o.ExpiresAt, Now: now, ClientIP: req.ClientIP,
		NotifyURL: s.urls.NotifyURL(ch.Name()), ReturnURL: s.urls.ReturnURL(ch.Name()),
		ProductID: product, Package: pkg,
	})
	if err != nil {
		s.log.WarnContext(ctx, "channel refused to prepare a payment", "channel", ch.Name(), "gateway", req.Gateway,
			"out_trade_no", outTradeNo, "err", err)
		if code := cashier.ErrorCode(err); code == cashier.EINTERNAL {
			return nil, nil, cashier.WrapError(err, cashier.ECHANNEL, fmt.Sprintf("%s could not prepare the payment", ch.Name()))
		}
		return nil, nil, err
	}
	raw, err := json.Marshal(cred.Value)
	if err != nil {
		return nil, nil, fmt.Errorf("encode credential: %w", err)
	}
	return &cashier.Payment{
		OutTradeNo: outTradeNo, Channel: ch.Name(), Gateway: req.Gateway, Amount: o.Payable,
		Status: cashier.PaymentPending, Credential: raw, ChannelTradeNo: cred.ChannelTradeNo, ProductID: product, CreatedAt: now,
	}, cred, nil
}
