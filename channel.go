package cashier

import (
	"context"
	"time"
)

// Channel names, as clients send them in the order API's channel parameter.
const (
	ChannelAlipay   = "alipay"
	ChannelWechat   = "wechat"
	ChannelIPayNow  = "helloNow"
	ChannelApple    = "apple"
	ChannelYijie    = "yijie"
	ChannelQuickSDK = "quickSdk"
	ChannelAdaPay   = "adapay"
)

// Channel is one payment channel: it builds what a client needs to pay an
// attempt and verifies what the channel sends back. Implementations live in
// channel/<name>; they speak the channel's protocol and nothing else.
type Channel interface {
	// Name is the channel's name as in the order API (e.g. "alipay").
	Name() string
	// Gateways lists the gateways this channel accepts, in the order API's words.
	Gateways() []string
	// Prepare builds the credential for one payment attempt. It may call the
	// channel (WeChat's unifiedorder) or not (Alipay's app order string).
	Prepare(ctx context.Context, req PrepareRequest) (*Credential, error)
	// VerifyNotification checks an inbound notification: signature, and that it
	// was meant for this merchant (app id, seller). Errors carry a code:
	// EFORBIDDEN when the signature does not verify, EINVALID when the message is
	// malformed, EUNPROCESSABLE when it is genuine but not ours.
	VerifyNotification(ctx context.Context, msg *InboundRequest) (*Notification, error)
	// Reply is the exact acknowledgement the channel expects: ok=true for
	// "received, stop resending", ok=false for "resend later".
	Reply(ok bool) NotifyReply
}

// PrepareRequest is what a channel needs to build the credential of one attempt.
type PrepareRequest struct {
	Gateway    string
	OutTradeNo string
	Amount     int64 // fen
	Subject    string
	ExpiresAt  time.Time
	Now        time.Time
	ClientIP   string
	NotifyURL  string
	ReturnURL  string
}

// Credential is what the client gets to pay with: Value is written into the
// response's data as it is (a string such as an Alipay order string or a URL, or
// an object of the channel's shape).
type Credential struct {
	Value          any
	ChannelTradeNo string // when the channel assigns one at creation (prepay id)
}

// InboundRequest is a received notification as it came off the wire.
type InboundRequest struct {
	Method  string
	Path    string
	Query   string // raw query string
	Headers map[string][]string
	Body    []byte // raw bytes, decoded exactly once by the channel
}

// NotifyStatus is what a notification says happened to a payment.
type NotifyStatus string

const (
	NotifyPaid    NotifyStatus = "paid"
	NotifyPending NotifyStatus = "pending" // e.g. WAIT_BUYER_PAY: nothing to do
	NotifyClosed  NotifyStatus = "closed"  // the channel closed the trade unpaid
	NotifyFailed  NotifyStatus = "failed"
)

// Notification is a verified notification about one payment attempt.
type Notification struct {
	OutTradeNo     string
	ChannelTradeNo string
	Amount         int64 // fen, as the channel says it was paid
	Status         NotifyStatus
	PaidAt         time.Time // zero when the channel does not say
	RawStatus      string    // the channel's own word (TRADE_SUCCESS…), for the record
	// Refund, when set, makes this a refund notification (WeChat's refund
	// notify): it reports on that refund, and Status is not about the payment.
	Refund *RefundResult
}

// NotifyReply is the HTTP answer a channel expects to a notification.
type NotifyReply struct {
	Status      int
	ContentType string
	Body        []byte
}

// Querier is a channel that can be asked about an attempt, for when its
// notification never came. A trade the channel does not know is ENOTFOUND.
type Querier interface {
	Query(ctx context.Context, outTradeNo string) (*Notification, error)
}

// Closer is a channel that can close an unpaid attempt, so that a buyer cannot
// pay it after cashier gave up on it. Closing a trade the channel does not
// know is not an error; closing one already paid is ECONFLICT.
type Closer interface {
	Close(ctx context.Context, outTradeNo string) error
}
