package cashier

import (
	"context"
	"slices"
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

// OrderAPIChannels are the channel names of the order API's contract (seed
// 004), built or not: a client naming one that this build lacks is told it
// is not available, not that it does not exist. Which channels are built is
// cashier's list (app.Channels), not this.
func OrderAPIChannels() []string {
	return []string{ChannelAlipay, ChannelWechat, ChannelIPayNow, ChannelApple, ChannelYijie, ChannelQuickSDK, ChannelAdaPay}
}

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
	// ProductID is the app store product the attempt buys, for channels
	// that sell store products (a PurchaseVerifier): the package's.
	ProductID string
	// Package is the package bought, for a channel whose credential
	// describes it (a PackageTicketer); nil for other orders.
	Package *Package
}

// PackageTicketer is a channel whose credential describes the package
// bought (QuickSDK's gold and diamond): Prepare gets it in
// PrepareRequest.Package when the order is one package.
type PackageTicketer interface {
	TicketsPackages() bool
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
	// NotifyRefunded: the channel gave the buyer's money back on its own
	// (Apple's REFUND and REVOKE): nothing is asked of it.
	NotifyRefunded NotifyStatus = "refunded"
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
	// ProductID, for an app store purchase, is the product bought: it must be
	// the attempt's, and stands for the amount, which the store sets.
	ProductID string
	// Claims are the channel's transaction ids that may pay one attempt
	// only, ever (Apple's transactionId and originalTransactionId). When
	// OutTradeNo is empty, the attempt is the one Claims[0] already paid.
	Claims []string
	// Environment is the store's environment of a purchase (Apple's
	// "Sandbox" or "Production"), for the record.
	Environment string
}

// MessageReplier is a channel whose acknowledgement depends on the message
// (AdaPay's names the payment): Receive answers with ReplyTo instead of Reply.
type MessageReplier interface {
	ReplyTo(req *InboundRequest, ok bool) NotifyReply
}

// ReplyTo is the answer ch expects to req: ok=true for "received, stop
// resending", ok=false for "resend later".
func ReplyTo(ch Channel, req *InboundRequest, ok bool) NotifyReply {
	if mr, isMR := ch.(MessageReplier); isMR {
		return mr.ReplyTo(req, ok)
	}
	return ch.Reply(ok)
}

// NotifyReply is the HTTP answer a channel expects to a notification.
type NotifyReply struct {
	Status      int
	ContentType string
	Body        []byte
}

// Trade names an attempt at its channel: our out_trade_no, and the channel's
// number for it when the channel gave one (AdaPay's payment id, needed to ask
// about the trade; WeChat's prepay id or transaction id).
type Trade struct {
	OutTradeNo     string
	ChannelTradeNo string
}

// TradeNoBinder is a channel whose notifications always carry the
// ChannelTradeNo its Prepare answered (AdaPay's payment id). A channel that
// signs every merchant's messages with one key can genuinely tell of another
// merchant's payment that reused our out_trade_no; for such a channel,
// checkout rejects a notification naming a trade other than the attempt's.
type TradeNoBinder interface {
	BindsChannelTradeNo() bool
}

// Querier is a channel that can be asked about an attempt, for when its
// notification never came. A trade the channel does not know is ENOTFOUND.
type Querier interface {
	Query(ctx context.Context, t Trade) (*Notification, error)
}

// GatewayChecker is a channel with rules about its gateways beyond the list
// of Gateways (a withdrawn one, answered with its own message). Without it,
// CheckGateway applies.
type GatewayChecker interface {
	CheckGateway(gateway string) error
}

// CheckGateway checks a gateway against the channel's list: required when
// the channel has gateways, one of them.
func CheckGateway(ch Channel, gateway string) error {
	gws := ch.Gateways()
	if len(gws) == 0 || slices.Contains(gws, gateway) {
		return nil
	}
	if gateway == "" {
		return Errorf(EINVALID, "gateway is required for channel %s: one of %v", ch.Name(), gws)
	}
	return Errorf(EINVALID, "unknown gateway %q for channel %s: use one of %v", gateway, ch.Name(), gws)
}

// ReturnVerifier is a channel that sends the buyer's browser back to cashier
// with signed parameters (Alipay's return_url), served at
// /api/v1/order/return/{channel}.
type ReturnVerifier interface {
	// VerifyReturn checks the return's query string and names its attempt.
	VerifyReturn(rawQuery string) (outTradeNo string, err error)
}

// HeaderRecorder is a channel whose notifications carry their evidence in
// headers too (WeChat Pay v3's Wechatpay-* signature headers): they are kept
// with each message's record, besides the common ones.
type HeaderRecorder interface {
	RecordedHeaders() []string
}

// Closer is a channel that can close an unpaid attempt, so that a buyer cannot
// pay it after cashier gave up on it. Closing a trade the channel does not
// know is not an error; closing one already paid is ECONFLICT.
type Closer interface {
	Close(ctx context.Context, t Trade) error
}
