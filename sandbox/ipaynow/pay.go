package ipaynow

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"cashier"
	"cashier/internal/signing"
	"cashier/sandbox"
)

// pages are the simulator's pages, in the frame of package sandbox.
var pages = sandbox.NewPages(sandbox.Look{Name: "iPayNow", Background: "#f3f6fb", Accent: "#e4393c"}, "sandbox helloNow", `
{{define "pay"}}<h1>iPayNow sandbox checkout</h1>
<p class="amount">¥{{.Amount}}</p>
<dl><dt>Item</dt><dd>{{.Name}}</dd><dt>Order</dt><dd>{{.OrderNo}}</dd><dt>Wallet</dt><dd>{{.Wallet}}</dd></dl>
<div class="buttons">
<form method="post" action="/sandbox/helloNow/pay"><input type="hidden" name="out_trade_no" value="{{.OrderNo}}"><input type="hidden" name="result" value="success"><button class="pay" type="submit">Pay</button></form>
<form method="post" action="/sandbox/helloNow/pay"><input type="hidden" name="out_trade_no" value="{{.OrderNo}}"><input type="hidden" name="result" value="fail"><button class="cancel" type="submit">Cancel</button></form>
</div>{{end}}

{{define "result"}}<h1>{{if .Paid}}Payment succeeded{{else}}Payment not made{{end}}</h1>
<dl><dt>Order</dt><dd>{{.OutTradeNo}}</dd>{{if .ChannelTradeNo}}<dt>iPayNow order</dt><dd>{{.ChannelTradeNo}}</dd>{{end}}<dt>Status</dt><dd>{{.Status}}</dd>
</dl>
<details><summary>For developers: the notification</summary><p>{{if .NotifyStatus}}cashier answered HTTP {{.NotifyStatus}}: <code>{{.NotifyReply}}</code>{{else}}none sent{{if .Note}} ({{.Note}}){{end}}{{end}}</p></details>{{end}}
`)

func (s *IPayNow) errorPage(w http.ResponseWriter, r *http.Request, status int, code, reason string) {
	pages.RenderError(w, r, s.log(), status, code, reason)
}

// servePayPage is what the buyer sees on opening an H5 link.
func (s *IPayNow) servePayPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var o *order
	for _, x := range s.orders {
		if x.nowPayOrderNo == r.PathValue("nowPayOrderNo") {
			o = x
		}
	}
	var data map[string]string
	if o != nil {
		data = map[string]string{"OrderNo": o.fields["mhtOrderNo"], "Name": o.fields["mhtOrderName"],
			"Amount": cashier.FormatYuan(o.amount), "Wallet": map[string]string{"12": "Alipay", "13": "WeChat Pay"}[o.fields["payChannelType"]]}
	}
	s.mu.Unlock()
	if o == nil {
		s.errorPage(w, r, http.StatusNotFound, "A002", "This sandbox has no such order: its links are valid while it runs.")
		return
	}
	pages.Render(w, r, s.log(), http.StatusOK, "pay", data)
}

// Pay pays or fails the order out_trade_no and sends its N001 unless hold
// is set; an N001 cashier does not acknowledge is sent again later (Tick).
// An APP order becomes known here, from the parameters cashier signed, as
// iPayNow learns of it when the app opens its plugin. iPayNow notifies
// successes only.
func (s *IPayNow) Pay(ctx context.Context, outTradeNo string, paid, hold bool) (*sandbox.PayAnswer, error) {
	if outTradeNo == "" {
		return nil, &sandbox.Refusal{Status: http.StatusBadRequest, Code: "A002", Reason: "give out_trade_no"}
	}
	s.mu.Lock()
	_, known := s.orders[outTradeNo]
	s.mu.Unlock()
	if !known {
		if rf := s.learnAppOrder(ctx, outTradeNo); rf != nil {
			return nil, rf
		}
	}
	s.mu.Lock()
	o := s.orders[outTradeNo]
	switch {
	case o.status == "A001":
		s.mu.Unlock()
		return nil, &sandbox.Refusal{Status: http.StatusConflict, Code: "A002", Reason: "order " + outTradeNo + " is already paid"}
	case paid && s.now().After(o.expires):
		s.mu.Unlock()
		return nil, &sandbox.Refusal{Status: http.StatusConflict, Code: "A006", Reason: "order " + outTradeNo + " has timed out (mhtOrderTimeOut)"}
	case !paid:
		o.status = "A002"
		s.mu.Unlock()
		return &sandbox.PayAnswer{OutTradeNo: outTradeNo, ChannelTradeNo: o.nowPayOrderNo, Status: "A002",
			Note: "failed: iPayNow notifies successes only"}, nil
	}
	o.status, o.paid = "A001", s.now()
	fields := s.orderFields(o, "N001")
	notifyURL := o.fields["notifyUrl"]
	s.mu.Unlock()
	s.log().InfoContext(ctx, "sandbox helloNow: order paid", "out_trade_no", outTradeNo)
	answer := &sandbox.PayAnswer{OutTradeNo: outTradeNo, ChannelTradeNo: fields["nowPayOrderNo"], Status: "A001", Paid: true,
		Notification: &sandbox.Message{URL: notifyURL, Body: []byte(sandbox.EncodeForm(s.signAnswer(fields, true))),
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded;charset=UTF-8"}}}}
	if hold {
		return answer, nil
	}
	err := sandbox.Send(ctx, s.client(), answer, false)
	if err != nil || answer.NotifyReply != "success=Y" {
		s.scheduleResend(answer.Notification)
	}
	return answer, err
}

// learnAppOrder takes an APP order from the SDK parameters cashier handed
// out, after checking their signature over the fields either app plugin
// signs.
func (s *IPayNow) learnAppOrder(ctx context.Context, outTradeNo string) *sandbox.Refusal {
	notFound := &sandbox.Refusal{Status: http.StatusNotFound, Code: "A002", Reason: "iPayNow sandbox has no order " + outTradeNo}
	if s.Lookup == nil {
		return notFound
	}
	raw, err := s.Lookup(ctx, outTradeNo)
	if err != nil {
		if cashier.ErrorCode(err) == cashier.ENOTFOUND {
			return notFound
		}
		return &sandbox.Refusal{Status: http.StatusInternalServerError, Code: "A002", Reason: "looking the order up failed: " + cashier.ErrorMessage(err)}
	}
	var params map[string]any
	if err := json.Unmarshal(raw, &params); err != nil {
		return &sandbox.Refusal{Status: http.StatusBadRequest, Code: "A002", Reason: "the order's credential is not the SDK parameters"}
	}
	if params["is_h5"] == true {
		return &sandbox.Refusal{Status: http.StatusConflict, Code: "A002",
			Reason: "cashier has H5 order " + outTradeNo + ", but this sandbox does not: it keeps orders in memory (was it restarted?); pay a new attempt"}
	}
	fields := map[string]string{}
	for k, v := range params {
		switch x := v.(type) {
		case string:
			fields[k] = x
		case float64:
			fields[k] = strconv.FormatInt(int64(x), 10)
		}
	}
	if !signedByApp(s.AppKey, fields) {
		return &sandbox.Refusal{Status: http.StatusBadRequest, Code: "A002", Reason: "mhtSignature does not verify with the app key"}
	}
	if fields["appId"] != s.AppID {
		return &sandbox.Refusal{Status: http.StatusBadRequest, Code: "A002", Reason: "appId is not the sandbox app"}
	}
	if _, msg := s.place(fields); msg != "" {
		return &sandbox.Refusal{Status: http.StatusBadRequest, Code: "A002", Reason: msg}
	}
	return nil
}

// signedByApp checks APP parameters as iPayNow's plugin versions sign them:
// their own fields, or those and funcode, deviceType, version, mhtSignType.
func signedByApp(key string, fields map[string]string) bool {
	own := []string{"appId", "mhtCharset", "mhtCurrencyType", "mhtOrderAmt", "mhtOrderDetail", "mhtOrderName",
		"mhtOrderNo", "mhtOrderStartTime", "mhtOrderType", "notifyUrl", "payChannelType",
		"consumerId", "consumerName", "mhtLimitPay", "mhtOrderTimeOut", "mhtReserved", "mhtSubAppId", "outputType"}
	for _, names := range [][]string{own, append(own, "funcode", "deviceType", "version", "mhtSignType")} {
		signed := map[string]string{}
		for _, n := range names {
			signed[n] = fields[n]
		}
		if signing.EqualHex(sign(key, signed), fields["mhtSignature"]) {
			return true
		}
	}
	return false
}

// resender is the simulator's Resender, made on first use.
func (s *IPayNow) resender() *sandbox.Resender {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.resends == nil {
		s.resends = &sandbox.Resender{After: resendAfter, Acknowledged: func(reply string) bool { return reply == "success=Y" }}
	}
	return s.resends
}

// scheduleResend keeps a notification to send again.
func (s *IPayNow) scheduleResend(m *sandbox.Message) { s.resender().Add(m, s.now()) }

// Tick sends again the notifications that are due and still not
// acknowledged with success=Y.
func (s *IPayNow) Tick(ctx context.Context) { s.resender().Tick(ctx, s.now(), s.client(), s.log()) }
