package alipay

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cashier/sandbox/sandboxtest"

	gopayalipay "github.com/go-pay/gopay/alipay"

	"cashier"
)

// apiCall sends a signed server-to-server call as cashier's app would, and
// returns the fields of the answer once its signature checks out with the
// platform key.
func (w *world) apiCall(method, biz string) map[string]string {
	w.t.Helper()
	params := map[string]string{
		"app_id": sandboxAppID, "method": method, "format": "JSON", "charset": "utf-8", "sign_type": "RSA2",
		"timestamp": "2026-01-02 11:04:59", "version": "1.0", "biz_content": biz,
	}
	sign, err := gopayalipay.GetRsaSign(bodyMap(params), gopayalipay.RSA2, keyPair(w.t, testKeyDir, "alipay_app"))
	if err != nil {
		w.t.Fatal(err)
	}
	params["sign"] = sign
	form := url.Values{}
	for k, v := range params {
		form.Set(k, v)
	}
	resp, err := w.srv.Client().PostForm(w.srv.URL+"/sandbox/alipay/gateway.do", form)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var envelope map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&envelope); err != nil {
		w.t.Fatal(err)
	}
	raw := envelope[strings.ReplaceAll(method, ".", "_")+"_response"]
	var signed string
	json.Unmarshal(envelope["sign"], &signed)
	pub, _ := x509.MarshalPKIXPublicKey(&w.sandbox.PlatformKey.PublicKey)
	if ok, err := gopayalipay.VerifySyncSign(base64.StdEncoding.EncodeToString(pub), string(raw), signed); err != nil || !ok {
		w.t.Fatalf("%s answer %s: signature does not verify", method, raw)
	}
	var fields map[string]string
	if err := json.Unmarshal(raw, &fields); err != nil {
		w.t.Fatalf("%s answer %s: %v", method, raw, err)
	}
	return fields
}

func TestRefundAPI(t *testing.T) {
	w := newWorld(t)
	w.prepare("app", "RF1", 1000, "refundable")
	paid := decodeAnswer(t, w.post("/sandbox/alipay/pay", url.Values{"out_trade_no": {"RF1"}}, ""))
	const refund, query = "alipay.trade.refund", "alipay.trade.fastpay.refund.query"

	want := func(got map[string]string, fields map[string]string) {
		t.Helper()
		for k, v := range fields {
			if got[k] != v {
				t.Errorf("%s = %q, want %q (answer %v)", k, got[k], v, got)
			}
		}
	}
	// refund_amount as a JSON number, as Alipay takes it too.
	ans := w.apiCall(refund, `{"out_trade_no":"RF1","refund_amount":3.5,"out_request_no":"a","refund_reason":"破损"}`)
	want(ans, map[string]string{"code": "10000", "fund_change": "Y", "refund_fee": "3.50", "send_back_fee": "3.50", "trade_no": paid.ChannelTradeNo, "out_trade_no": "RF1"})
	if ans["gmt_refund_pay"] == "" {
		t.Error("no gmt_refund_pay")
	}
	// The same out_request_no: the same refund, no money moved.
	want(w.apiCall(refund, `{"out_trade_no":"RF1","refund_amount":"3.50","out_request_no":"a"}`), map[string]string{"code": "10000", "fund_change": "N", "refund_fee": "3.50"})
	want(w.apiCall(refund, `{"out_trade_no":"RF1","refund_amount":"3.00","out_request_no":"a"}`), map[string]string{"code": "40004", "sub_code": "ACQ.DISCORDANT_REPEAT_REQUEST"})
	// By trade_no, without out_request_no: the rest.
	want(w.apiCall(refund, `{"trade_no":"`+paid.ChannelTradeNo+`","refund_amount":"6.50"}`), map[string]string{"code": "10000", "fund_change": "Y", "refund_fee": "10.00"})
	want(w.apiCall(refund, `{"out_trade_no":"RF1","refund_amount":"0.01","out_request_no":"b"}`), map[string]string{"code": "40004", "sub_code": "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"})
	for _, amount := range []string{`"0"`, `"-1.00"`, `"1.001"`, `null`} {
		want(w.apiCall(refund, `{"out_trade_no":"RF1","refund_amount":`+amount+`,"out_request_no":"c"}`), map[string]string{"code": "40004", "sub_code": "ACQ.INVALID_PARAMETER"})
	}
	for _, amount := range []string{`"abc"`, `""`} {
		want(w.apiCall(refund, `{"out_trade_no":"RF1","refund_amount":`+amount+`,"out_request_no":"c"}`), map[string]string{"code": "40002"})
	}
	want(w.apiCall(refund, `{"out_trade_no":"nobody","refund_amount":"1.00","out_request_no":"a"}`), map[string]string{"code": "40004", "sub_code": "ACQ.TRADE_NOT_EXIST"})

	want(w.apiCall(query, `{"out_trade_no":"RF1","out_request_no":"a"}`), map[string]string{
		"code": "10000", "out_request_no": "a", "refund_amount": "3.50", "total_amount": "10.00", "refund_status": "REFUND_SUCCESS", "refund_reason": "破损", "trade_no": paid.ChannelTradeNo,
	})
	want(w.apiCall(query, `{"out_trade_no":"RF1","out_request_no":"RF1"}`), map[string]string{"code": "10000", "refund_amount": "6.50"})
	missing := w.apiCall(query, `{"out_trade_no":"RF1","out_request_no":"zzz"}`)
	if missing["code"] != "10000" || missing["refund_amount"] != "" || missing["refund_status"] != "" {
		t.Errorf("unknown refund answered %v", missing)
	}
	want(w.apiCall(query, `{"out_trade_no":"RF1"}`), map[string]string{"code": "40004", "sub_code": "ACQ.INVALID_PARAMETER"})
	want(w.apiCall(query, `{"out_trade_no":"nobody","out_request_no":"a"}`), map[string]string{"sub_code": "ACQ.TRADE_NOT_EXIST"})

	// The trade stays paid.
	n, err := w.channel.Query(t.Context(), cashier.Trade{OutTradeNo: "RF1"})
	if err != nil || n.Status != cashier.NotifyPaid {
		t.Errorf("query %+v, %v", n, err)
	}
}

func TestRefundStates(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	// Waiting for the buyer, then closed: no refund.
	resp, err := w.srv.Client().Get(w.prepare("web", "RS1", 100, "opened"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req := cashier.RefundRequest{OutTradeNo: "RS1", OutRefundNo: "RS1-1", Amount: 100, Total: 100}
	_, err = w.channel.Refund(ctx, req)
	sandboxtest.WantErrCode(t, err, cashier.ECONFLICT)
	if err := w.channel.Close(ctx, cashier.Trade{OutTradeNo: "RS1"}); err != nil {
		t.Fatal(err)
	}
	_, err = w.channel.Refund(ctx, req)
	sandboxtest.WantErrCode(t, err, cashier.ECONFLICT)

	// Paid: refunded in full once, however often asked.
	w.prepare("app", "RS2", 100, "paid")
	if resp := w.post("/sandbox/alipay/pay", url.Values{"out_trade_no": {"RS2"}}, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("pay: %d", resp.StatusCode)
	}
	req = cashier.RefundRequest{OutTradeNo: "RS2", OutRefundNo: "RS2-1", Amount: 100, Total: 100}
	for range 3 {
		res, err := w.channel.Refund(ctx, req)
		if err != nil || res.Status != cashier.RefundSucceeded || res.Amount != 100 {
			t.Fatalf("refund %+v, %v", res, err)
		}
	}
	w.sandbox.mu.Lock()
	refunded := w.sandbox.trades["RS2"].RefundedFen
	w.sandbox.mu.Unlock()
	if refunded != 100 {
		t.Errorf("refunded %d fen", refunded)
	}
}
