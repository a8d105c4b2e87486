package wechat

import (
	"cmp"
	"crypto/rand"
	"fmt"
	"math/big"
	"slices"
	"time"

	"cashier/internal/chinatime"
)

// Refund statuses, v3's words; v2 says CHANGE and REFUNDCLOSE for the last
// two (wechatV2RefundStatus).
const (
	wechatRefundProcessing = "PROCESSING"
	wechatRefundSuccess    = "SUCCESS"
	wechatRefundAbnormal   = "ABNORMAL"
	wechatRefundClosed     = "CLOSED"
)

// wechatV2RefundStatuses renames the v3 refund statuses whose v2 spelling differs.
var wechatV2RefundStatuses = map[string]string{wechatRefundAbnormal: "CHANGE", wechatRefundClosed: "REFUNDCLOSE"}

func wechatV2RefundStatus(status string) string {
	if s, ok := wechatV2RefundStatuses[status]; ok {
		return s
	}
	return status
}

// wechatRefund is one refund as the simulated WeChat Pay knows it: PROCESSING
// until settled (settleRefunds).
type wechatRefund struct {
	OutRefundNo   string
	OutTradeNo    string
	TransactionID string
	RefundID      string
	Version       int // the API version that asked for it
	Amount        int64
	Total         int64
	Reason        string
	NotifyURL     string
	Status        string
	Created       time.Time
	Settled       time.Time // zero while PROCESSING
}

// wechatRefundOrder is a refund as either version's call asks for it.
type wechatRefundOrder struct {
	version                 int
	outTradeNo, outRefundNo string
	amount, total           int64
	reason, notifyURL       string
}

// Refund refusals, v2's err_code and err_code_des (v3: wechatV3RefundRefusal).
var (
	wechatErrRefundNotExist = &wechatRefusal{"REFUNDNOTEXIST", "退款订单查询失败"}
	wechatErrNotPaid        = &wechatRefusal{"ERROR", "订单未支付，不能退款"}
	wechatErrFullyRefunded  = &wechatRefusal{"ERROR", "订单已全额退款"}
)

// createRefund records a refund of a paid trade, PROCESSING, or answers the
// refund already asked for with the same out_refund_no, as WeChat Pay does:
// a refund is made once per out_refund_no. Refunds not closed may not add
// up to more than the trade's amount.
func (w *WeChat) createRefund(o wechatRefundOrder) (wechatRefund, *wechatRefusal) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if r, ok := w.refunds[o.outRefundNo]; ok {
		if r.OutTradeNo != o.outTradeNo || r.Amount != o.amount {
			return wechatRefund{}, &wechatRefusal{"ERROR", fmt.Sprintf("out_refund_no %s 已用于订单 %s 退款 %d 分，请求信息不一致", r.OutRefundNo, r.OutTradeNo, r.Amount)}
		}
		return *r, nil
	}
	t, ok := w.trades[o.outTradeNo]
	switch {
	case !ok:
		return wechatRefund{}, wechatErrOrderNotExist
	case t.State != wechatSuccess:
		return wechatRefund{}, wechatErrNotPaid
	case o.total != t.TotalFee:
		return wechatRefund{}, wechatParamError("订单金额%d分与支付金额%d分不一致", o.total, t.TotalFee)
	case t.Refunded >= t.TotalFee:
		return wechatRefund{}, wechatErrFullyRefunded
	case t.Refunded+o.amount > t.TotalFee:
		return wechatRefund{}, &wechatRefusal{"ERROR", fmt.Sprintf("申请退款金额超过订单可退金额（可退%d分）", t.TotalFee-t.Refunded)}
	}
	now := w.now()
	r := &wechatRefund{
		OutRefundNo:   o.outRefundNo,
		OutTradeNo:    t.OutTradeNo,
		TransactionID: t.TransactionID,
		RefundID:      wechatRefundID(now),
		Version:       o.version,
		Amount:        o.amount,
		Total:         t.TotalFee,
		Reason:        o.reason,
		NotifyURL:     o.notifyURL,
		Status:        wechatRefundProcessing,
		Created:       now,
	}
	if w.refunds == nil {
		w.refunds = make(map[string]*wechatRefund)
	}
	w.refunds[r.OutRefundNo] = r
	t.Refunded += r.Amount
	return *r, nil
}

// refund returns a copy of the refund out_refund_no.
func (w *WeChat) refund(outRefundNo string) (wechatRefund, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.refunds[outRefundNo]
	if !ok {
		return wechatRefund{}, false
	}
	return *r, true
}

// findRefunds returns copies of the refunds that match, oldest first.
func (w *WeChat) findRefunds(match func(*wechatRefund) bool) []wechatRefund {
	w.mu.Lock()
	defer w.mu.Unlock()
	var rs []wechatRefund
	for _, r := range w.refunds {
		if match(r) {
			rs = append(rs, *r)
		}
	}
	sortRefunds(rs)
	return rs
}

// settleRefunds gives the refunds in progress (all of them, or the one
// outRefundNo) status, and returns copies of them, oldest first. A closed
// refund no longer counts against the trade's amount.
func (w *WeChat) settleRefunds(outRefundNo, status string) []wechatRefund {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	var settled []wechatRefund
	for _, r := range w.refunds {
		if r.Status != wechatRefundProcessing || (outRefundNo != "" && r.OutRefundNo != outRefundNo) {
			continue
		}
		r.Status, r.Settled = status, now
		if t, ok := w.trades[r.OutTradeNo]; ok && status == wechatRefundClosed {
			t.Refunded -= r.Amount
		}
		settled = append(settled, *r)
	}
	sortRefunds(settled)
	return settled
}

func sortRefunds(rs []wechatRefund) {
	slices.SortFunc(rs, func(a, b wechatRefund) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.OutRefundNo, b.OutRefundNo))
	})
}

// wechatRefundID looks like WeChat Pay's: 28 digits starting 50.
func wechatRefundID(now time.Time) string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1e18))
	return fmt.Sprintf("50%s%018d", now.In(chinatime.Location()).Format("20060102"), n)
}
