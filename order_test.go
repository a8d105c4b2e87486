package cashier_test

import (
	"testing"

	"cashier"
)

// Every pair of order statuses: exactly the transitions of DESIGN.md are allowed.
func TestOrderTransitions(t *testing.T) {
	all := []cashier.OrderStatus{cashier.OrderPending, cashier.OrderPaid, cashier.OrderFulfilled, cashier.OrderClosed,
		cashier.OrderRefunding, cashier.OrderRefunded, cashier.OrderPartiallyRefunded}
	allowed := map[[2]cashier.OrderStatus]bool{
		{cashier.OrderPending, cashier.OrderPaid}:                true,
		{cashier.OrderPending, cashier.OrderClosed}:              true,
		{cashier.OrderClosed, cashier.OrderPaid}:                 true,
		{cashier.OrderPaid, cashier.OrderFulfilled}:              true,
		{cashier.OrderPaid, cashier.OrderRefunding}:              true,
		{cashier.OrderFulfilled, cashier.OrderRefunding}:         true,
		{cashier.OrderRefunding, cashier.OrderRefunded}:          true,
		{cashier.OrderRefunding, cashier.OrderPartiallyRefunded}: true,
		{cashier.OrderRefunding, cashier.OrderPaid}:              true,
		{cashier.OrderPartiallyRefunded, cashier.OrderRefunding}: true,
	}
	for _, from := range all {
		for _, to := range all {
			want := allowed[[2]cashier.OrderStatus{from, to}]
			if got := cashier.CanTransitionOrder(from, to); got != want {
				t.Errorf("order %s → %s: allowed = %v, want %v", from, to, got, want)
			}
		}
	}
}

// Every pair of payment statuses. A closed or failed attempt may still be paid
// (the buyer finished in the channel's app), and money that arrives for an
// order that no longer needs it becomes needs_refund; nothing leaves paid.
func TestPaymentTransitions(t *testing.T) {
	all := []cashier.PaymentStatus{cashier.PaymentPending, cashier.PaymentPaid, cashier.PaymentClosed, cashier.PaymentFailed,
		cashier.PaymentNeedsRefund, cashier.PaymentRefunded}
	allowed := map[[2]cashier.PaymentStatus]bool{
		{cashier.PaymentPending, cashier.PaymentPaid}:         true,
		{cashier.PaymentPending, cashier.PaymentClosed}:       true,
		{cashier.PaymentPending, cashier.PaymentFailed}:       true,
		{cashier.PaymentPending, cashier.PaymentNeedsRefund}:  true,
		{cashier.PaymentClosed, cashier.PaymentPaid}:          true,
		{cashier.PaymentClosed, cashier.PaymentNeedsRefund}:   true,
		{cashier.PaymentFailed, cashier.PaymentPaid}:          true,
		{cashier.PaymentFailed, cashier.PaymentNeedsRefund}:   true,
		{cashier.PaymentNeedsRefund, cashier.PaymentRefunded}: true,
	}
	for _, from := range all {
		for _, to := range all {
			want := allowed[[2]cashier.PaymentStatus{from, to}]
			if got := cashier.CanTransitionPayment(from, to); got != want {
				t.Errorf("payment %s → %s: allowed = %v, want %v", from, to, got, want)
			}
		}
	}
	if got := cashier.PaymentSourceStates(cashier.PaymentPaid); len(got) != 3 {
		t.Errorf("sources of paid = %v", got)
	}
}
