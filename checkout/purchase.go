package checkout

import (
	"context"
	"fmt"

	"cashier"
)

// App store purchases (cashier.PurchaseVerifier: Apple). The store prices
// a product, the buyer pays inside the app, and the app sends what the store
// gave it; the store also notifies cashier. Either way the purchase goes
// through apply, like any channel's notification, with two more rules: the
// product bought stands for the amount, and each store transaction pays at
// most one attempt, ever (the claims).

// RejectUsed is why a genuine purchase was not applied: its store
// transaction already paid another attempt.
const RejectUsed = "used"

// ticketPackage is the package an attempt of order buys through ch, for
// a channel whose ticket describes it (a PackageTicketer: nil for an order
// that is not one package) or that sells it as an app store product (a
// PurchaseVerifier, which can sell nothing else); otherwise nil, and no
// query is made.
func (s *Service) ticketPackage(ctx context.Context, ch cashier.Channel, o *cashier.Order) (*cashier.Package, error) {
	_, sells := ch.(cashier.PurchaseVerifier)
	pt, tickets := ch.(cashier.PackageTicketer)
	if !sells && !(tickets && pt.TicketsPackages()) {
		return nil, nil
	}
	if o.Kind != cashier.KindPackage || len(o.Items) != 1 || o.Items[0].PackageID == 0 {
		if sells {
			return nil, cashier.Errorf(cashier.EINVALID, "channel %s sells App Store products: only a package can be bought with it", ch.Name())
		}
		return nil, nil
	}
	if sells && (o.CouponID != 0 || o.CostOrderID != 0) {
		return nil, cashier.Errorf(cashier.EINVALID, "the App Store charges its product's own price: a coupon or an upgrade cannot be used with channel %s", ch.Name())
	}
	var pkg *cashier.Package
	err := s.store.View(ctx, func(tx cashier.Tx) (err error) {
		pkg, err = tx.Package(ctx, o.Items[0].PackageID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if sells && pkg.AppleProductID == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "package %d has no apple_product_id: it cannot be bought with channel %s", pkg.ID, ch.Name())
	}
	return pkg, nil
}

// honoursLate says whether a purchase in channel's store pays an order
// cashier closed.
func (s *Service) honoursLate(channel string) bool {
	pv, ok := s.channels[channel].(cashier.PurchaseVerifier)
	return ok && pv.HonoursLatePurchases()
}

// attemptOf is the attempt a verified notification is about: by its
// out_trade_no, or else by the store transaction it names, which paid it.
func (s *Service) attemptOf(ctx context.Context, tx cashier.Tx, channel string, n *cashier.Notification) (*cashier.Payment, error) {
	if n.OutTradeNo != "" {
		p, err := tx.PaymentByOutTradeNo(ctx, n.OutTradeNo)
		if cashier.ErrorCode(err) == cashier.ENOTFOUND {
			return nil, cashier.Errorf(cashier.ENOTFOUND, "unknown out_trade_no %q", n.OutTradeNo)
		}
		return p, err
	}
	if len(n.Claims) == 0 {
		return nil, cashier.Errorf(cashier.ENOTFOUND, "the notification names no attempt")
	}
	id, err := tx.TransactionOwner(ctx, channel, n.Claims[0])
	if cashier.ErrorCode(err) == cashier.ENOTFOUND {
		return nil, cashier.Errorf(cashier.ENOTFOUND, "unknown %s transaction %q: it paid nothing here", channel, n.Claims[0])
	} else if err != nil {
		return nil, err
	}
	p, err := tx.Payment(ctx, id)
	if err != nil {
		return nil, err
	}
	n.OutTradeNo = p.OutTradeNo
	return p, nil
}

// claim makes n's store transactions p's, unless one of them paid another
// attempt already: then n is rejected and claim reports it taken.
func (s *Service) claim(ctx context.Context, tx cashier.Tx, p *cashier.Payment, n *cashier.Notification, rc *Receipt) (taken bool, err error) {
	for _, id := range n.Claims {
		owner, err := tx.TransactionOwner(ctx, p.Channel, id)
		if cashier.ErrorCode(err) == cashier.ENOTFOUND {
			continue
		} else if err != nil {
			return false, err
		}
		if owner != p.ID {
			rc.reject("%s transaction %s already paid another attempt (payment %d): it pays one order only", p.Channel, id, owner)
			rc.Reason = RejectUsed
			return true, nil
		}
	}
	for _, id := range n.Claims {
		owner, err := tx.ClaimTransaction(ctx, p.Channel, id, p.ID, s.now())
		if err != nil {
			return false, err
		}
		if owner != p.ID {
			return false, errRaced // another attempt claimed it this instant: rolled back
		}
	}
	return false, nil
}

// applyRefundedByChannel records that the channel gave a payment's money
// back on its own (Apple refunding a purchase): a succeeded refund of the
// whole payment, with the order refunded, and nothing asked of the channel.
func (s *Service) applyRefundedByChannel(ctx context.Context, tx cashier.Tx, p *cashier.Payment, n *cashier.Notification, rc *Receipt) error {
	if p.ChannelTradeNo != n.ChannelTradeNo {
		rc.Outcome, rc.Detail = cashier.InboundIgnored, fmt.Sprintf("%s transaction %s did not pay this attempt (%s)", p.Channel, n.ChannelTradeNo, p.Status)
		return nil
	}
	if err := tx.LockOrder(ctx, p.OrderID); err != nil {
		return err
	}
	order, err := tx.Order(ctx, p.OrderID)
	if err != nil {
		return err
	}
	if p, err = tx.Payment(ctx, p.ID); err != nil {
		return err
	}
	amount := p.Amount
	switch {
	case p.Status == cashier.PaymentNeedsRefund:
	case p.Status == cashier.PaymentPaid:
		amount = min(amount, order.PaidAmount-order.Refunded)
		if amount <= 0 {
			rc.Outcome, rc.Detail = cashier.InboundDuplicate, "order is already "+string(order.Status)
			return nil
		}
		ok, err := tx.ReserveRefund(ctx, order.ID, amount)
		if err != nil {
			return err
		}
		if !ok {
			return errRaced
		}
		for _, from := range []cashier.OrderStatus{cashier.OrderPaid, cashier.OrderFulfilled, cashier.OrderPartiallyRefunded} {
			if _, err := tx.TransitionOrder(ctx, order.ID, from, cashier.OrderChange{Status: cashier.OrderRefunding, At: s.now()}); err != nil {
				return err
			}
		}
	default:
		rc.Outcome, rc.Detail = cashier.InboundDuplicate, "payment is already "+string(p.Status)
		return nil
	}
	now := s.now()
	no, err := newOutRefundNo(now)
	if err != nil {
		return err
	}
	detail := fmt.Sprintf("refunded by %s (%s)", p.Channel, n.RawStatus)
	r := &cashier.Refund{OrderID: p.OrderID, PaymentID: p.ID, OutRefundNo: no, Amount: amount,
		Reason: "refunded by " + p.Channel, Status: cashier.RefundPending, CreatedAt: now}
	if err := tx.InsertRefund(ctx, r); err != nil {
		return err
	}
	if _, err := s.settleRefundTx(ctx, tx, no, cashier.RefundResult{OutRefundNo: no, Status: cashier.RefundSucceeded,
		Amount: amount, Detail: detail, By: p.Channel}); err != nil {
		return err
	}
	rc.Outcome, rc.Detail = cashier.InboundApplied, detail
	s.log.WarnContext(ctx, "a payment was refunded by its channel", "channel", p.Channel, "order_id", p.OrderID,
		"out_trade_no", p.OutTradeNo, "amount", amount, "status", n.RawStatus)
	return nil
}

// VerifyPurchaseRequest is the buyer's app sending what the store gave it
// for one of the buyer's orders.
type VerifyPurchaseRequest struct {
	UserID  string
	OrderID int64
	Proof   cashier.PurchaseProof
	Inbound Inbound // the app's request as it arrived, recorded as evidence
}

// VerifyPurchase verifies what an app store gave the buyer's app and pays
// the order with it, through apply like any notification, recording the
// app's request as a message. A purchase names its attempt (Apple's
// appAccountToken), which must be the order's; an old receipt names none,
// and its first purchase of the attempt's product that pays no other
// attempt is taken. Sending the same purchase again answers as the first
// time; a purchase that paid another order is ECONFLICT.
func (s *Service) VerifyPurchase(ctx context.Context, req VerifyPurchaseRequest) (*cashier.Order, *Receipt, error) {
	ch, ok := s.channels[req.Inbound.Channel]
	pv, isPV := ch.(cashier.PurchaseVerifier)
	if !ok || !isPV {
		return nil, nil, cashier.Errorf(cashier.ENOTFOUND, "channel %q takes no purchases from apps here", req.Inbound.Channel)
	}
	order, err := s.userOrder(ctx, req.UserID, req.OrderID)
	if err != nil {
		return nil, nil, err
	}
	in := req.Inbound
	msg := &cashier.InboundMessage{
		Channel: in.Channel, Method: in.Request.Method, Path: in.Request.Path, Query: in.Request.Query, Headers: in.Request.Headers,
		Body: in.Request.Body, BodySize: len(in.Request.Body), RemoteAddr: in.RemoteAddr, ReceivedAt: s.now(), Verified: true,
	}
	purchases, err := pv.VerifyPurchase(ctx, req.Proof)
	if cashier.ErrorCode(err) == cashier.ECHANNEL || cashier.ErrorCode(err) == cashier.EINTERNAL {
		return nil, nil, err // the store could not answer: nothing to record
	}
	var n *cashier.Notification
	if err == nil {
		n, err = s.purchaseFor(ctx, order, in.Channel, purchases)
	}
	if err != nil {
		rc, rerr := s.recordRejected(ctx, in, msg, err)
		if rerr != nil {
			return nil, rc, rerr
		}
		return nil, rc, err
	}
	rc := &Receipt{}
	if err := s.record(ctx, msg, n, rc); err != nil {
		return nil, rc, err
	}
	if rc.Outcome == cashier.InboundRejected {
		code := cashier.EUNPROCESSABLE
		if rc.Reason == RejectUsed {
			code = cashier.ECONFLICT
		}
		return nil, rc, cashier.Errorf(code, "%s", rc.Detail)
	}
	order, err = s.userOrder(ctx, req.UserID, req.OrderID)
	return order, rc, err
}

// purchaseFor picks, among verified purchases, the one for order: the one
// naming an attempt of the order, or else the first for the product of the
// order's newest attempt that pays no other attempt.
func (s *Service) purchaseFor(ctx context.Context, order *cashier.Order, channel string, purchases []cashier.Notification) (*cashier.Notification, error) {
	var newest *cashier.Payment
	for i := range order.Payments {
		p := &order.Payments[i]
		if p.Channel != channel {
			continue
		}
		if newest == nil || p.ID > newest.ID {
			newest = p
		}
		for j := range purchases {
			if purchases[j].OutTradeNo == p.OutTradeNo {
				return &purchases[j], nil
			}
		}
	}
	if newest == nil {
		return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "order %d was never paid with %s", order.ID, channel)
	}
	var used []string
	for i := range purchases {
		n := &purchases[i]
		if n.OutTradeNo != "" {
			return nil, cashier.Errorf(cashier.ECONFLICT, "%s transaction %s was made for another order (attempt %s): it cannot pay order %d",
				channel, n.ChannelTradeNo, n.OutTradeNo, order.ID)
		}
		if n.ProductID != newest.ProductID || len(n.Claims) == 0 {
			continue
		}
		var owner int64
		err := s.store.View(ctx, func(tx cashier.Tx) (err error) {
			owner, err = tx.TransactionOwner(ctx, channel, n.Claims[0])
			return err
		})
		switch {
		case cashier.ErrorCode(err) == cashier.ENOTFOUND, err == nil && owner == newest.ID:
			n.OutTradeNo = newest.OutTradeNo
			return n, nil
		case err != nil:
			return nil, err
		}
		used = append(used, n.ChannelTradeNo)
	}
	if len(used) > 0 {
		return nil, cashier.Errorf(cashier.ECONFLICT, "every purchase of %s in the receipt (%v) already paid another order", newest.ProductID, used)
	}
	return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "the receipt holds no purchase of %s, the product of order %d", newest.ProductID, order.ID)
}
