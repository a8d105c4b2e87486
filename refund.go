package cashier

import (
	"context"
	"time"
)

// RefundStatus is the state of a refund.
type RefundStatus string

const (
	RefundPending   RefundStatus = "pending"   // asked for, not settled by the channel yet
	RefundSucceeded RefundStatus = "succeeded" // the money went back
	RefundFailed    RefundStatus = "failed"    // the channel refused or gave up
)

// Refund gives back all or part of a paid payment.
type Refund struct {
	ID              int64
	OrderID         int64
	PaymentID       int64
	OutRefundNo     string // ours, unique; Alipay's out_request_no
	Amount          int64  // fen
	Reason          string
	Status          RefundStatus
	ChannelRefundNo string
	Detail          string // the channel's words on failure
	CreatedAt       time.Time
	SettledAt       time.Time
}

// RefundRequest asks a channel to refund part or all of an attempt.
type RefundRequest struct {
	OutTradeNo     string
	ChannelTradeNo string // the channel's number for the attempt, when it gave one
	OutRefundNo    string // unique per refund: the channel deduplicates on it
	Amount         int64  // this refund, fen
	Total          int64  // the attempt's amount, fen (WeChat wants it)
	Reason         string
	NotifyURL      string // where the channel notifies the outcome, if it does
}

// RefundResult is what a channel says of a refund.
type RefundResult struct {
	OutTradeNo      string
	OutRefundNo     string
	ChannelRefundNo string
	Status          RefundStatus
	Amount          int64 // fen
	Detail          string
	// By names who gave the money back when cashier did not ask: the
	// channel on its own (Apple refunding a purchase).
	By string
}

// Refunder is a channel that can refund. Refund is idempotent per OutRefundNo:
// asking again returns the first refund's state. A refund the channel does not
// know is ENOTFOUND from QueryRefund.
type Refunder interface {
	Refund(ctx context.Context, req RefundRequest) (*RefundResult, error)
	QueryRefund(ctx context.Context, t Trade, outRefundNo string) (*RefundResult, error)
}
