package alipay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"cashier"
	alipaysim "cashier/sandbox/alipay"
)

// sandboxWorld is the channel aimed at the Alipay simulator, on loopback.
type sandboxWorld struct {
	t   *testing.T
	sim *alipaysim.Alipay
	srv *httptest.Server
	ch  *Alipay
}

func newSandboxWorld(t *testing.T) *sandboxWorld {
	t.Helper()
	w := &sandboxWorld{t: t, sim: &alipaysim.Alipay{AppID: testAppID, AppPublicKey: &appKey().PublicKey, PlatformKey: platformKey()}}
	mux := http.NewServeMux()
	w.sim.Register(mux)
	w.srv = httptest.NewServer(mux)
	t.Cleanup(w.srv.Close)
	w.sim.HTTPClient = w.srv.Client()
	cfg := testConfig()
	cfg.SellerID = w.sim.SellerID()
	cfg.GatewayURL = w.srv.URL + "/sandbox/alipay/gateway.do"
	cfg.HTTPClient = w.srv.Client()
	w.ch = newTestAlipay(t, cfg)
	return w
}

// prepare makes an attempt's credential (no notify_url: the tests ask).
func (w *sandboxWorld) prepare(gateway, outTradeNo string, fen int64) string {
	w.t.Helper()
	now := time.Now()
	cred, err := w.ch.Prepare(w.t.Context(), cashier.PrepareRequest{
		Gateway: gateway, OutTradeNo: outTradeNo, Amount: fen, Subject: "Refundable gold",
		Now: now, ExpiresAt: now.Add(30 * time.Minute),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return cred.Value.(string)
}

// settle has the simulated buyer pay (result "success") or cancel ("fail")
// the app attempt outTradeNo of fen.
func (w *sandboxWorld) settle(outTradeNo string, fen int64, result string) {
	w.t.Helper()
	resp, err := w.srv.Client().PostForm(w.srv.URL+"/sandbox/alipay/pay", url.Values{
		"order_string": {w.prepare("app", outTradeNo, fen)}, "result": {result},
	})
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("pay %s: HTTP %d", outTradeNo, resp.StatusCode)
	}
}

func (w *sandboxWorld) refund(outTradeNo, outRefundNo string, amount, total int64) (*cashier.RefundResult, error) {
	return w.ch.Refund(w.t.Context(), cashier.RefundRequest{
		OutTradeNo: outTradeNo, OutRefundNo: outRefundNo, Amount: amount, Total: total, Reason: "买家退货 & <换货>",
	})
}

func wantRefund(t *testing.T, res *cashier.RefundResult, err error, want cashier.RefundResult) {
	t.Helper()
	if err != nil {
		t.Fatalf("refund %s: %v", want.OutRefundNo, err)
	}
	if *res != want {
		t.Fatalf("refund %+v, want %+v", *res, want)
	}
}

func TestRefundThroughSandbox(t *testing.T) {
	w := newSandboxWorld(t)
	ctx := t.Context()
	succeeded := func(otn, orn string, fen int64) cashier.RefundResult {
		return cashier.RefundResult{OutTradeNo: otn, OutRefundNo: orn, Status: cashier.RefundSucceeded, Amount: fen}
	}

	t.Run("full", func(t *testing.T) {
		w.settle("AR-FULL", 1000, "success")
		res, err := w.refund("AR-FULL", "AR-FULL-1", 1000, 1000)
		wantRefund(t, res, err, succeeded("AR-FULL", "AR-FULL-1", 1000))
		res, err = w.ch.QueryRefund(ctx, cashier.Trade{OutTradeNo: "AR-FULL"}, "AR-FULL-1")
		wantRefund(t, res, err, succeeded("AR-FULL", "AR-FULL-1", 1000))
		_, err = w.refund("AR-FULL", "AR-FULL-2", 1, 1000)
		wantCode(t, err, cashier.ECHANNEL)
	})

	t.Run("partials", func(t *testing.T) {
		w.settle("AR-PART", 1000, "success")
		res, err := w.refund("AR-PART", "AR-PART-1", 600, 1000)
		wantRefund(t, res, err, succeeded("AR-PART", "AR-PART-1", 600))
		// Asked again (a retry): the same refund, made once.
		res, err = w.refund("AR-PART", "AR-PART-1", 600, 1000)
		wantRefund(t, res, err, succeeded("AR-PART", "AR-PART-1", 600))
		// So 400 are left, not none.
		res, err = w.refund("AR-PART", "AR-PART-2", 400, 1000)
		wantRefund(t, res, err, succeeded("AR-PART", "AR-PART-2", 400))
		_, err = w.refund("AR-PART", "AR-PART-3", 1, 1000)
		wantCode(t, err, cashier.ECHANNEL)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.SubCode != SubCodeRefundAmountExceeded || !strings.Contains(cashier.ErrorMessage(err), "退款金额超限") {
			t.Errorf("over-refund: %v", err)
		}
		_, err = w.ch.QueryRefund(ctx, cashier.Trade{OutTradeNo: "AR-PART"}, "AR-PART-3")
		wantCode(t, err, cashier.ENOTFOUND)
		res, err = w.ch.QueryRefund(ctx, cashier.Trade{OutTradeNo: "AR-PART"}, "AR-PART-1")
		wantRefund(t, res, err, succeeded("AR-PART", "AR-PART-1", 600))
		// The same number for another amount.
		_, err = w.refund("AR-PART", "AR-PART-1", 500, 1000)
		wantCode(t, err, cashier.ECONFLICT)
	})

	t.Run("not refundable", func(t *testing.T) {
		_, err := w.refund("AR-NONE", "AR-NONE-1", 100, 100)
		wantCode(t, err, cashier.ECHANNEL)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.SubCode != SubCodeTradeNotExist {
			t.Errorf("unknown trade: %v", err)
		}
		_, err = w.ch.QueryRefund(ctx, cashier.Trade{OutTradeNo: "AR-NONE"}, "AR-NONE-1")
		wantCode(t, err, cashier.ENOTFOUND)

		w.settle("AR-CLOSED", 100, "fail")
		_, err = w.refund("AR-CLOSED", "AR-CLOSED-1", 100, 100)
		wantCode(t, err, cashier.ECONFLICT)

		// Opened in the browser, not paid.
		resp, err := w.srv.Client().Get(w.prepare("web", "AR-OPEN", 100))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		_, err = w.refund("AR-OPEN", "AR-OPEN-1", 100, 100)
		wantCode(t, err, cashier.ECONFLICT)
	})

	t.Run("invalid", func(t *testing.T) {
		for _, req := range []cashier.RefundRequest{
			{OutTradeNo: "AR-FULL", OutRefundNo: "X", Amount: 0, Total: 100},
			{OutTradeNo: "AR-FULL", OutRefundNo: "X", Amount: 101, Total: 100},
			{OutTradeNo: "AR-FULL", OutRefundNo: "", Amount: 1, Total: 100},
			{OutTradeNo: "", OutRefundNo: "X", Amount: 1, Total: 100},
			{OutTradeNo: "AR-FULL", OutRefundNo: strings.Repeat("x", 65), Amount: 1, Total: 100},
		} {
			_, err := w.ch.Refund(ctx, req)
			wantCode(t, err, cashier.EINVALID)
		}
		_, err := w.ch.QueryRefund(ctx, cashier.Trade{OutTradeNo: "AR-FULL"}, "")
		wantCode(t, err, cashier.EINVALID)
	})
}

func TestRefundAnswers(t *testing.T) {
	const (
		made    = `{"code":"10000","msg":"Success","trade_no":"2026010222001400000000000001","out_trade_no":"R1","buyer_logon_id":"159****5620","fund_change":"Y","refund_fee":"12.34","gmt_refund_pay":"2026-01-02 11:04:59"}`
		notMade = `{"code":"10000","msg":"Success","trade_no":"2026010222001400000000000001","out_trade_no":"R1","fund_change":"N","refund_fee":"0.00"}`
		found   = `{"code":"10000","msg":"Success","trade_no":"2026","out_trade_no":"R1","out_request_no":"%s","total_amount":"20.00","refund_amount":"12.34"%s}`
	)
	var lastBiz map[string]string
	a := newTradeAlipay(t, func(method string, biz map[string]string) (string, string) {
		lastBiz = biz
		var raw string
		switch method + " " + biz["out_request_no"] {
		case "alipay.trade.refund made":
			raw = made
		case "alipay.trade.refund forged":
			return made, platformSign(t, notMade)
		case "alipay.trade.refund balance":
			raw = `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.SELLER_BALANCE_NOT_ENOUGH","sub_msg":"卖家余额不足"}`
		case "alipay.trade.refund finished":
			raw = `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_HAS_FINISHED","sub_msg":"交易已完结"}`
		case "alipay.trade.refund system":
			return `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.SYSTEM_ERROR","sub_msg":"系统错误"}`, ""
		case "alipay.trade.refund unknown":
			return `{"code":"20000","msg":"Service Currently Unavailable","sub_code":"isp.unknow-error","sub_msg":"系统繁忙"}`, ""
		case "alipay.trade.refund unsigned-status":
			return `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_STATUS_ERROR","sub_msg":"交易状态不合法"}`, ""
		case "alipay.trade.refund processing", "alipay.trade.refund repeated", "alipay.trade.refund weird":
			raw = notMade
		case "alipay.trade.fastpay.refund.query processing":
			raw = `{"code":"10000","msg":"Success"}`
		case "alipay.trade.fastpay.refund.query repeated":
			raw = fmt.Sprintf(found, "repeated", `,"refund_status":"REFUND_SUCCESS"`)
		case "alipay.trade.fastpay.refund.query no-status":
			raw = fmt.Sprintf(found, "no-status", "")
		case "alipay.trade.fastpay.refund.query weird":
			raw = fmt.Sprintf(found, "weird", `,"refund_status":"REFUND_MAYBE"`)
		case "alipay.trade.fastpay.refund.query other":
			raw = fmt.Sprintf(found, "another", `,"refund_status":"REFUND_SUCCESS"`)
		default:
			t.Errorf("unexpected %s %v", method, biz)
			raw = `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.SYSTEM_ERROR","sub_msg":"?"}`
		}
		return raw, platformSign(t, raw)
	})
	ctx := t.Context()
	refund := func(no string) (*cashier.RefundResult, error) {
		return a.Refund(ctx, cashier.RefundRequest{OutTradeNo: "R1", OutRefundNo: no, Amount: 1234, Total: 2000, Reason: "  破损  "})
	}

	res, err := refund("made")
	wantRefund(t, res, err, cashier.RefundResult{OutTradeNo: "R1", OutRefundNo: "made", Status: cashier.RefundSucceeded, Amount: 1234})
	if lastBiz["out_trade_no"] != "R1" || lastBiz["refund_amount"] != "12.34" || lastBiz["out_request_no"] != "made" || lastBiz["refund_reason"] != "破损" {
		t.Errorf("biz_content %v", lastBiz)
	}
	// fund_change N: the query decides.
	res, err = refund("repeated")
	wantRefund(t, res, err, cashier.RefundResult{OutTradeNo: "R1", OutRefundNo: "repeated", Status: cashier.RefundSucceeded, Amount: 1234})
	res, err = refund("processing")
	wantRefund(t, res, err, cashier.RefundResult{OutTradeNo: "R1", OutRefundNo: "processing", Status: cashier.RefundPending, Amount: 1234})
	res, err = refund("weird") // a query that cannot be read leaves it pending
	wantRefund(t, res, err, cashier.RefundResult{OutTradeNo: "R1", OutRefundNo: "weird", Status: cashier.RefundPending, Amount: 1234})

	for no, code := range map[string]string{
		"forged":          cashier.ECHANNEL,
		"balance":         cashier.ECHANNEL,
		"finished":        cashier.ECONFLICT,
		"system":          cashier.EUNAVAILABLE,
		"unknown":         cashier.EUNAVAILABLE,
		"unsigned-status": cashier.ECHANNEL, // not believed: nothing says the trade is in that state
	} {
		_, err := refund(no)
		wantCode(t, err, code)
		if no == "balance" && !strings.Contains(cashier.ErrorMessage(err), "卖家余额不足") {
			t.Errorf("message %q lacks sub_msg", cashier.ErrorMessage(err))
		}
	}

	res, err = a.QueryRefund(ctx, cashier.Trade{OutTradeNo: "R1"}, "no-status")
	wantRefund(t, res, err, cashier.RefundResult{OutTradeNo: "R1", OutRefundNo: "no-status", Status: cashier.RefundPending, Amount: 1234})
	_, err = a.QueryRefund(ctx, cashier.Trade{OutTradeNo: "R1"}, "processing")
	wantCode(t, err, cashier.ENOTFOUND)
	_, err = a.QueryRefund(ctx, cashier.Trade{OutTradeNo: "R1"}, "weird")
	wantCode(t, err, cashier.ECHANNEL)
	_, err = a.QueryRefund(ctx, cashier.Trade{OutTradeNo: "R1"}, "other")
	wantCode(t, err, cashier.ECHANNEL)
}

func TestRefundTransport(t *testing.T) {
	status := http.StatusInternalServerError
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status == http.StatusOK {
			fmt.Fprint(w, "<html>busy</html>")
			return
		}
		http.Error(w, "oops", status)
	}))
	cfg := testConfig()
	cfg.GatewayURL = srv.URL + "/gateway.do"
	a := newTestAlipay(t, cfg)
	ctx := context.Background()
	req := cashier.RefundRequest{OutTradeNo: "R1", OutRefundNo: "R1-1", Amount: 100, Total: 100}

	// The outcome is unknown: ask again.
	_, err := a.Refund(ctx, req)
	wantCode(t, err, cashier.EUNAVAILABLE)
	status = http.StatusBadRequest
	_, err = a.Refund(ctx, req)
	wantCode(t, err, cashier.ECHANNEL)
	status = http.StatusOK
	_, err = a.Refund(ctx, req)
	wantCode(t, err, cashier.ECHANNEL)
	srv.Close()
	_, err = a.Refund(ctx, req)
	wantCode(t, err, cashier.EUNAVAILABLE)
	_, err = a.QueryRefund(ctx, cashier.Trade{OutTradeNo: "R1"}, "R1-1")
	wantCode(t, err, cashier.EUNAVAILABLE)
}

func TestRefundNotification(t *testing.T) {
	a := newTestAlipay(t, testConfig())
	// A refund in full, as Alipay notifies it to the trade's notify_url.
	p := notifyParams()
	p["trade_status"] = "TRADE_CLOSED"
	p["out_biz_no"] = "P20260102000001-R1"
	p["refund_fee"] = "88.88"
	p["gmt_refund"] = "2026-01-03 09:00:00.123"
	p["gmt_close"] = "2026-01-03 09:00:00"
	n, err := a.VerifyNotification(t.Context(), &cashier.InboundRequest{Method: "POST", Body: []byte(signAs(t, platformKey(), p))})
	if err != nil {
		t.Fatal(err)
	}
	want := cashier.RefundResult{OutTradeNo: "P20260102000001", OutRefundNo: "P20260102000001-R1", Status: cashier.RefundSucceeded}
	if n.Refund == nil || *n.Refund != want || n.Status != "" || n.RawStatus != "TRADE_CLOSED" || n.OutTradeNo != "P20260102000001" || n.ChannelTradeNo != p["trade_no"] {
		t.Fatalf("notification %+v, refund %+v", n, n.Refund)
	}
	p["refund_fee"] = "lots"
	_, err = a.VerifyNotification(t.Context(), &cashier.InboundRequest{Method: "POST", Body: []byte(signAs(t, platformKey(), p))})
	wantCode(t, err, cashier.EINVALID)
	_, err = a.VerifyNotification(t.Context(), &cashier.InboundRequest{Method: "POST", Body: []byte(signAs(t, otherKey(), p))})
	wantCode(t, err, cashier.EFORBIDDEN)
}
