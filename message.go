package cashier

import "time"

// InboundMessage is one notification or callback received from a channel,
// kept raw with the outcome of its verification: the evidence for disputes.
type InboundMessage struct {
	ID         int64
	Channel    string
	Method     string
	Path       string
	Query      string
	Headers    map[string][]string
	Body       []byte // as received; of a message that failed verification, its first MaxRejectedBody bytes
	BodySize   int    // the size of the body as received
	RemoteAddr string
	ReceivedAt time.Time
	Outcome    string // one of the Inbound* outcomes
	Detail     string // why, in words
	OutTradeNo string // when known
	// Verified is false for a message that failed verification (forged or
	// malformed): it keeps only part of its body, and is purged in time.
	Verified bool
}

// MaxRejectedBody is how much of the body of a message that failed
// verification is kept: enough to see what it was, not enough for a flood
// of forgeries to fill the disk.
const MaxRejectedBody = 4 << 10

// Inbound message outcomes.
const (
	InboundReceived  = "received"  // recorded, not processed yet
	InboundApplied   = "applied"   // changed a payment or an order
	InboundDuplicate = "duplicate" // already applied earlier: nothing changed
	InboundIgnored   = "ignored"   // verified, nothing to do (e.g. WAIT_BUYER_PAY)
	InboundRejected  = "rejected"  // failed verification or checks: nothing changed
	InboundFailed    = "failed"    // verified, but applying it failed: the channel will resend
)

// Event is an outbox entry: a fact that merchants' webhooks are told about. It is
// written in the same transaction as the change it reports.
type Event struct {
	ID        string // stable, so that receivers can deduplicate
	Type      string
	OrderID   int64
	Payload   []byte // JSON
	CreatedAt time.Time
}

// Event types.
const (
	EventOrderPaid       = "order.paid"
	EventOrderClosed     = "order.closed"
	EventPaymentLate     = "payment.late"
	EventRefundSucceeded = "refund.succeeded"
	EventRefundFailed    = "refund.failed"
)

// EventTypes lists every event type, for webhook subscriptions.
var EventTypes = []string{EventOrderPaid, EventOrderClosed, EventPaymentLate, EventRefundSucceeded, EventRefundFailed}
