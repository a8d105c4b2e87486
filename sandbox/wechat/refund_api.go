package wechat

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"cashier/internal/chinatime"

	"github.com/go-pay/gopay"
)

// WeChat Pay's limits on refund fields.
const (
	wechatMaxOutRefundNo = 64
	wechatMaxRefundDesc  = 80 // characters
)

// v2Refund asks for a refund (/secapi/pay/refund). WeChat Pay requires the
// merchant's client certificate here; the simulator, reached over plain
// HTTP, does not ask for one. The answer says the refund was taken, not
// made: it stays PROCESSING until settled.
func (w *WeChat) v2Refund(_ *http.Request, req gopay.BodyMap, _ string) (gopay.BodyMap, *wechatRefusal) {
	for _, k := range []string{"out_refund_no", "total_fee", "refund_fee"} {
		if req.GetString(k) == "" {
			return nil, wechatParamError("缺少参数%s", k)
		}
	}
	o := wechatRefundOrder{
		version:     2,
		outTradeNo:  req.GetString("out_trade_no"),
		outRefundNo: req.GetString("out_refund_no"),
		reason:      req.GetString("refund_desc"),
		notifyURL:   req.GetString("notify_url"),
	}
	if o.outTradeNo == "" {
		tid := req.GetString("transaction_id")
		if tid == "" {
			return nil, wechatParamError("out_trade_no和transaction_id不能同时为空")
		}
		if o.outTradeNo = w.outTradeNoOfTransaction(tid); o.outTradeNo == "" {
			return nil, wechatErrOrderNotExist
		}
	}
	var err error
	if o.total, err = wechatParseFen(req.GetString("total_fee")); err != nil {
		return nil, wechatParamError("total_fee必须为正整数（分）")
	}
	if o.amount, err = wechatParseFen(req.GetString("refund_fee")); err != nil {
		return nil, wechatParamError("refund_fee必须为正整数（分）")
	}
	if ref := wechatCheckRefund(o); ref != nil {
		return nil, ref
	}
	r, ref := w.createRefund(o)
	if ref != nil {
		return nil, ref
	}
	return gopay.BodyMap{
		"transaction_id":        r.TransactionID,
		"out_trade_no":          r.OutTradeNo,
		"out_refund_no":         r.OutRefundNo,
		"refund_id":             r.RefundID,
		"refund_fee":            strconv.FormatInt(r.Amount, 10),
		"settlement_refund_fee": strconv.FormatInt(r.Amount, 10),
		"total_fee":             strconv.FormatInt(r.Total, 10),
		"settlement_total_fee":  strconv.FormatInt(r.Total, 10),
		"fee_type":              "CNY",
		"cash_fee":              strconv.FormatInt(r.Total, 10),
		"cash_refund_fee":       strconv.FormatInt(r.Amount, 10),
	}, nil
}

// v2RefundQuery answers refunds (/pay/refundquery): one, by refund_id or
// out_refund_no, or all of a trade's, by transaction_id or out_trade_no (in
// WeChat Pay's order of precedence), as refund_status_$n, refund_fee_$n…
func (w *WeChat) v2RefundQuery(_ *http.Request, req gopay.BodyMap, _ string) (gopay.BodyMap, *wechatRefusal) {
	var match func(*wechatRefund) bool
	switch {
	case req.GetString("refund_id") != "":
		match = func(r *wechatRefund) bool { return r.RefundID == req.GetString("refund_id") }
	case req.GetString("out_refund_no") != "":
		match = func(r *wechatRefund) bool { return r.OutRefundNo == req.GetString("out_refund_no") }
	case req.GetString("transaction_id") != "":
		match = func(r *wechatRefund) bool { return r.TransactionID == req.GetString("transaction_id") }
	case req.GetString("out_trade_no") != "":
		match = func(r *wechatRefund) bool { return r.OutTradeNo == req.GetString("out_trade_no") }
	default:
		return nil, wechatParamError("refund_id、out_refund_no、out_trade_no、transaction_id不能同时为空")
	}
	rs := w.findRefunds(match)
	if len(rs) == 0 {
		return nil, wechatErrRefundNotExist
	}
	t, _ := w.trade(rs[0].OutTradeNo)
	all := w.findRefunds(func(r *wechatRefund) bool { return r.OutTradeNo == t.OutTradeNo })
	ans := gopay.BodyMap{
		"transaction_id":     t.TransactionID,
		"out_trade_no":       t.OutTradeNo,
		"total_fee":          strconv.FormatInt(t.TotalFee, 10),
		"cash_fee":           strconv.FormatInt(t.TotalFee, 10),
		"fee_type":           "CNY",
		"refund_count":       strconv.Itoa(len(rs)),
		"total_refund_count": strconv.Itoa(len(all)),
	}
	var sum int64
	for i, r := range rs {
		n := "_" + strconv.Itoa(i)
		sum += r.Amount
		ans.Set("out_refund_no"+n, r.OutRefundNo).
			Set("refund_id"+n, r.RefundID).
			Set("refund_channel"+n, "ORIGINAL").
			Set("refund_fee"+n, strconv.FormatInt(r.Amount, 10)).
			Set("settlement_refund_fee"+n, strconv.FormatInt(r.Amount, 10)).
			Set("refund_status"+n, wechatV2RefundStatus(r.Status)).
			Set("refund_account"+n, "REFUND_SOURCE_UNSETTLED_FUNDS").
			Set("refund_recv_accout"+n, "支付用户的零钱")
		if r.Status == wechatRefundSuccess {
			ans.Set("refund_success_time"+n, r.Settled.In(chinatime.Location()).Format(time.DateTime))
		}
	}
	ans.Set("refund_fee", strconv.FormatInt(sum, 10))
	return ans, nil
}

// wechatV3RefundRequest is the body of POST /v3/refund/domestic/refunds.
type wechatV3RefundRequest struct {
	TransactionID string `json:"transaction_id"`
	OutTradeNo    string `json:"out_trade_no"`
	OutRefundNo   string `json:"out_refund_no"`
	Reason        string `json:"reason"`
	NotifyURL     string `json:"notify_url"`
	Amount        *struct {
		Refund   int64  `json:"refund"`
		Total    int64  `json:"total"`
		Currency string `json:"currency"`
	} `json:"amount"`
}

// v3Refund asks for a refund (POST /v3/refund/domestic/refunds) and answers
// the refund object: PROCESSING until settled.
func (w *WeChat) v3Refund(_ *http.Request, body []byte) (int, any, *wechatV3Error) {
	var req wechatV3RefundRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return 0, nil, wechatV3Refusal(wechatParamError("请求体不是合法的JSON: %v", err))
	}
	switch {
	case req.OutRefundNo == "":
		return 0, nil, wechatV3Refusal(wechatParamError("out_refund_no为必填"))
	case req.OutTradeNo == "" && req.TransactionID == "":
		return 0, nil, wechatV3Refusal(wechatParamError("out_trade_no和transaction_id不能同时为空"))
	case req.Amount == nil || req.Amount.Refund <= 0 || req.Amount.Total <= 0:
		return 0, nil, wechatV3Refusal(wechatParamError("amount.refund和amount.total必须为正整数（分）"))
	case req.Amount.Currency != "CNY":
		return 0, nil, wechatV3Refusal(wechatParamError("amount.currency只支持CNY"))
	}
	o := wechatRefundOrder{
		version:     3,
		outTradeNo:  req.OutTradeNo,
		outRefundNo: req.OutRefundNo,
		amount:      req.Amount.Refund,
		total:       req.Amount.Total,
		reason:      req.Reason,
		notifyURL:   req.NotifyURL,
	}
	if o.outTradeNo == "" {
		if o.outTradeNo = w.outTradeNoOfTransaction(req.TransactionID); o.outTradeNo == "" {
			return 0, nil, wechatV3RefundRefusal(wechatErrOrderNotExist)
		}
	}
	if ref := wechatCheckRefund(o); ref != nil {
		return 0, nil, wechatV3Refusal(ref)
	}
	r, ref := w.createRefund(o)
	if ref != nil {
		return 0, nil, wechatV3RefundRefusal(ref)
	}
	return http.StatusOK, wechatV3RefundOf(r), nil
}

// v3RefundQuery answers one refund (GET /v3/refund/domestic/refunds/{out_refund_no}).
func (w *WeChat) v3RefundQuery(r *http.Request, _ []byte) (int, any, *wechatV3Error) {
	rf, ok := w.refund(r.PathValue("out_refund_no"))
	if !ok {
		return 0, nil, wechatV3RefundRefusal(wechatErrRefundNotExist)
	}
	return http.StatusOK, wechatV3RefundOf(rf), nil
}

// wechatV3RefundRefusal is a refund refusal in v3's words: the refund API
// says RESOURCE_NOT_EXISTS of a trade, as of a refund, it does not know.
func wechatV3RefundRefusal(r *wechatRefusal) *wechatV3Error {
	if r.code == wechatErrOrderNotExist.code {
		r = &wechatRefusal{"RESOURCE_NOT_EXISTS", r.des}
	}
	return wechatV3Refusal(r)
}

// wechatV3Refund is the v3 refund object, as the refund calls answer it.
type wechatV3Refund struct {
	RefundID            string `json:"refund_id"`
	OutRefundNo         string `json:"out_refund_no"`
	TransactionID       string `json:"transaction_id"`
	OutTradeNo          string `json:"out_trade_no"`
	Channel             string `json:"channel"`
	UserReceivedAccount string `json:"user_received_account"`
	SuccessTime         string `json:"success_time,omitempty"`
	CreateTime          string `json:"create_time"`
	Status              string `json:"status"`
	FundsAccount        string `json:"funds_account"`
	Amount              struct {
		Total            int64    `json:"total"`
		Refund           int64    `json:"refund"`
		From             []string `json:"from"`
		PayerTotal       int64    `json:"payer_total"`
		PayerRefund      int64    `json:"payer_refund"`
		SettlementRefund int64    `json:"settlement_refund"`
		SettlementTotal  int64    `json:"settlement_total"`
		DiscountRefund   int64    `json:"discount_refund"`
		Currency         string   `json:"currency"`
	} `json:"amount"`
}

func wechatV3RefundOf(r wechatRefund) wechatV3Refund {
	x := wechatV3Refund{
		RefundID:            r.RefundID,
		OutRefundNo:         r.OutRefundNo,
		TransactionID:       r.TransactionID,
		OutTradeNo:          r.OutTradeNo,
		Channel:             "ORIGINAL",
		UserReceivedAccount: "支付用户零钱",
		CreateTime:          r.Created.In(chinatime.Location()).Format(time.RFC3339),
		Status:              r.Status,
		FundsAccount:        "AVAILABLE",
	}
	if r.Status == wechatRefundSuccess {
		x.SuccessTime = r.Settled.In(chinatime.Location()).Format(time.RFC3339)
	}
	a := &x.Amount
	a.Total, a.Refund, a.From, a.Currency = r.Total, r.Amount, []string{}, "CNY"
	a.PayerTotal, a.PayerRefund = r.Total, r.Amount
	a.SettlementTotal, a.SettlementRefund = r.Total, r.Amount
	return x
}

// wechatCheckRefund checks the fields both versions share.
func wechatCheckRefund(o wechatRefundOrder) *wechatRefusal {
	ok := len(o.outRefundNo) <= wechatMaxOutRefundNo
	for i := 0; ok && i < len(o.outRefundNo); i++ {
		c := o.outRefundNo[i]
		ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("_-|*@", c) >= 0
	}
	if !ok {
		return wechatParamError("out_refund_no只能是64位以内的数字、大小写字母_-|*@")
	}
	if utf8.RuneCountInString(o.reason) > wechatMaxRefundDesc {
		return wechatParamError("退款原因超过%d个字符", wechatMaxRefundDesc)
	}
	if o.amount > o.total {
		return wechatParamError("退款金额不能大于订单金额")
	}
	if o.notifyURL != "" {
		if u, err := url.Parse(o.notifyURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return wechatParamError("notify_url格式错误")
		}
	}
	return nil
}
