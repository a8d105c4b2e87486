package jobs

import (
	"time"

	"github.com/riverqueue/river"
)

// The kinds of background work. Arguments are ids only: a job reads the
// current state when it runs, so a job that runs late or twice does no harm.

type expireOrderArgs struct {
	OrderID int64 `json:"order_id"`
}

func (expireOrderArgs) Kind() string { return "expire_order" }

type pollPaymentArgs struct {
	PaymentID int64 `json:"payment_id"`
}

func (pollPaymentArgs) Kind() string { return "poll_payment" }

type processRefundArgs struct {
	RefundID int64 `json:"refund_id"`
}

func (processRefundArgs) Kind() string { return "process_refund" }

type deliverEventArgs struct {
	EventID    string `json:"event_id"`
	EndpointID int64  `json:"endpoint_id"`
}

func (deliverEventArgs) Kind() string { return "deliver_event" }

type purgeArgs struct{}

func (purgeArgs) Kind() string { return "purge_idempotency_keys" }

type purgeInboundArgs struct{}

func (purgeInboundArgs) Kind() string { return "purge_rejected_messages" }

// webhookQueue keeps deliveries apart from the order work, so that slow or
// failing receivers never hold the workers that close orders and refund.
const webhookQueue = "webhooks"

// InsertOpts gives webhook deliveries their own queue and their attempt
// budget: WebhookSchedule covers more than a day.
func (deliverEventArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: webhookQueue, MaxAttempts: len(WebhookSchedule) + 1}
}

// WebhookSchedule is how long a failed webhook delivery waits before the next
// attempt: 16 retries over about 31 hours, after the first try.
var WebhookSchedule = []time.Duration{
	30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute,
	20 * time.Minute, 30 * time.Minute, time.Hour, time.Hour, 2 * time.Hour,
	2 * time.Hour, 4 * time.Hour, 4 * time.Hour, 4 * time.Hour, 6 * time.Hour, 6 * time.Hour,
}

// webhookDelay is the wait after the given failed attempt (1-based).
func webhookDelay(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > len(WebhookSchedule) {
		return WebhookSchedule[len(WebhookSchedule)-1]
	}
	return WebhookSchedule[attempt-1]
}
