package cashier

import "time"

// PaymentStatus is the state of one payment attempt.
type PaymentStatus string

const (
	PaymentPending     PaymentStatus = "pending"
	PaymentPaid        PaymentStatus = "paid"
	PaymentClosed      PaymentStatus = "closed"
	PaymentFailed      PaymentStatus = "failed"
	PaymentNeedsRefund PaymentStatus = "needs_refund" // money arrived that the order does not need
	PaymentRefunded    PaymentStatus = "refunded"
)

var paymentTransitions = map[PaymentStatus][]PaymentStatus{
	// A closed or failed attempt can still be paid: the buyer may finish paying in
	// the channel's app after cashier gave up on it. Whether that money pays the
	// order or has to go back depends on the order, not on the attempt.
	PaymentPending:     {PaymentPaid, PaymentClosed, PaymentFailed, PaymentNeedsRefund},
	PaymentClosed:      {PaymentPaid, PaymentNeedsRefund},
	PaymentFailed:      {PaymentPaid, PaymentNeedsRefund},
	PaymentNeedsRefund: {PaymentRefunded},
}

// PaidFrom are the statuses an attempt leaves when its money arrives: a
// closed or failed attempt may still have been paid at the channel.
func PaidFrom() []PaymentStatus {
	return []PaymentStatus{PaymentPending, PaymentClosed, PaymentFailed}
}

// CanTransitionPayment reports whether an attempt may move from one status to another.
func CanTransitionPayment(from, to PaymentStatus) bool {
	for _, s := range paymentTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// PaymentSourceStates lists the statuses from which an attempt may reach to.
func PaymentSourceStates(to PaymentStatus) []PaymentStatus {
	var from []PaymentStatus
	for _, s := range []PaymentStatus{PaymentPending, PaymentPaid, PaymentClosed, PaymentFailed, PaymentNeedsRefund, PaymentRefunded} {
		if CanTransitionPayment(s, to) {
			from = append(from, s)
		}
	}
	return from
}

// Payment is one attempt to pay an order through one channel and gateway.
type Payment struct {
	ID             int64
	OrderID        int64
	OutTradeNo     string // ours, unique, sent to the channel
	Channel        string
	Gateway        string
	Amount         int64
	Status         PaymentStatus
	Credential     []byte // JSON of what the client got to pay with
	ChannelTradeNo string
	// ProductID is the app store product the attempt buys (Apple): the
	// store prices it, and a purchase of it pays the attempt.
	ProductID string
	CreatedAt time.Time
	PaidAt    time.Time
	UpdatedAt time.Time
	// PollAt, when set on insert, is when cashier starts asking the channel
	// about the attempt if no notification has come: the row is the
	// schedule, turned into a job when it is due (Tx.ClaimDuePolls).
	PollAt time.Time
}
