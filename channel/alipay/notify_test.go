package alipay

import (
	"context"
	"maps"
	"net/url"
	"strings"
	"testing"
	"time"

	"cashier"
)

func notifyParams() map[string]string {
	return map[string]string{
		"notify_time":      "2026-01-02 11:05:00",
		"notify_type":      "trade_status_sync",
		"notify_id":        "ac05099524730693a8b330c5ecf72da9786",
		"app_id":           testAppID,
		"charset":          "utf-8",
		"version":          "1.0",
		"sign_type":        "RSA2",
		"trade_no":         "2026010222001400000000000001",
		"out_trade_no":     "P20260102000001",
		"buyer_id":         "2088102177000001",
		"seller_id":        testSellerID,
		"trade_status":     "TRADE_SUCCESS",
		"total_amount":     "88.88",
		"receipt_amount":   "88.88",
		"buyer_pay_amount": "88.88",
		"subject":          "a+b c",
		"body":             "",
		"gmt_create":       "2026-01-02 11:04:30",
		"gmt_payment":      "2026-01-02 11:04:59",
	}
}

func TestVerifyNotification(t *testing.T) {
	withSeller := newTestAlipay(t, testConfig())
	cfg := testConfig()
	cfg.SellerID = ""
	anySeller := newTestAlipay(t, cfg)

	with := func(changes map[string]string) map[string]string {
		p := notifyParams()
		maps.Copy(p, changes)
		return p
	}
	signed := func(p map[string]string) string { return signAs(t, platformKey(), p) }
	// replace swaps one encoded parameter after signing.
	replace := func(body, old, new string) string {
		if !strings.Contains(body, old) {
			t.Fatalf("%q not in %q", old, body)
		}
		return strings.Replace(body, old, new, 1)
	}
	valid := signed(notifyParams())

	cases := []struct {
		name   string
		a      *Alipay
		body   string
		code   string
		status cashier.NotifyStatus
	}{
		{name: "valid, '+' in a value", body: valid, status: cashier.NotifyPaid},
		{name: "TRADE_FINISHED", body: signed(with(map[string]string{"trade_status": "TRADE_FINISHED"})), status: cashier.NotifyPaid},
		{name: "WAIT_BUYER_PAY", body: signed(with(map[string]string{"trade_status": "WAIT_BUYER_PAY", "gmt_payment": ""})), status: cashier.NotifyPending},
		{name: "TRADE_CLOSED", body: signed(with(map[string]string{"trade_status": "TRADE_CLOSED", "gmt_payment": ""})), status: cashier.NotifyClosed},
		{name: "other seller, none configured", a: anySeller, body: signed(with(map[string]string{"seller_id": "2088999999999999"})), status: cashier.NotifyPaid},

		{name: "tampered amount", body: replace(valid, "total_amount=88.88", "total_amount=0.01"), code: cashier.EFORBIDDEN},
		{name: "tampered signature", body: replace(valid, "sign=", "sign=AAAA"), code: cashier.EFORBIDDEN},
		{name: "missing sign", body: func() string {
			v, _ := url.ParseQuery(valid)
			v.Del("sign")
			return v.Encode()
		}(), code: cashier.EFORBIDDEN},
		{name: "signed by another key", body: signAs(t, otherKey(), notifyParams()), code: cashier.EFORBIDDEN},
		{name: "'+' sent unencoded is a space", body: replace(valid, "subject=a%2Bb+c", "subject=a+b+c"), code: cashier.EFORBIDDEN},
		{name: "sign_type RSA", body: replace(valid, "sign_type=RSA2", "sign_type=RSA"), code: cashier.EFORBIDDEN},
		{name: "wrong app_id", body: signed(with(map[string]string{"app_id": "2021999999999999"})), code: cashier.EUNPROCESSABLE},
		{name: "wrong seller_id", body: signed(with(map[string]string{"seller_id": "2088999999999999"})), code: cashier.EUNPROCESSABLE},
		{name: "no seller_id", body: signed(with(map[string]string{"seller_id": ""})), code: cashier.EUNPROCESSABLE},
		{name: "unknown status", body: signed(with(map[string]string{"trade_status": "TRADE_PENDING"})), code: cashier.EINVALID},
		{name: "bad total_amount", body: signed(with(map[string]string{"total_amount": "88.888"})), code: cashier.EINVALID},
		{name: "no out_trade_no", body: signed(with(map[string]string{"out_trade_no": ""})), code: cashier.EINVALID},
		{name: "bad gmt_payment", body: signed(with(map[string]string{"gmt_payment": "yesterday"})), code: cashier.EINVALID},
		{name: "malformed body", body: "a=%zz&" + valid, code: cashier.EINVALID},
		{name: "repeated parameter", body: valid + "&total_amount=88.88", code: cashier.EINVALID},
		{name: "empty body", body: "", code: cashier.EFORBIDDEN},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.a
			if a == nil {
				a = withSeller
			}
			n, err := a.VerifyNotification(context.Background(), &cashier.InboundRequest{Method: "POST", Body: []byte(tc.body)})
			if tc.code != "" {
				wantCode(t, err, tc.code)
				if n != nil {
					t.Error("notification returned with an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Status != tc.status {
				t.Errorf("status %q, want %q", n.Status, tc.status)
			}
			if n.OutTradeNo != "P20260102000001" || n.ChannelTradeNo != "2026010222001400000000000001" || n.Amount != 8888 {
				t.Errorf("notification %+v", n)
			}
			v, _ := url.ParseQuery(tc.body)
			if n.RawStatus != v.Get("trade_status") {
				t.Errorf("raw status %q", n.RawStatus)
			}
		})
	}

	n, err := withSeller.VerifyNotification(context.Background(), &cashier.InboundRequest{Body: []byte(valid)})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 1, 2, 3, 4, 59, 0, time.UTC); !n.PaidAt.Equal(want) {
		t.Errorf("PaidAt %v, want %v", n.PaidAt, want)
	}
	n, err = withSeller.VerifyNotification(context.Background(), &cashier.InboundRequest{Body: []byte(signed(with(map[string]string{"gmt_payment": ""})))})
	if err != nil {
		t.Fatal(err)
	}
	if !n.PaidAt.IsZero() {
		t.Errorf("PaidAt %v without gmt_payment", n.PaidAt)
	}
	_, err = withSeller.VerifyNotification(context.Background(), nil)
	wantCode(t, err, cashier.EINVALID)
}

func TestVerifyReturn(t *testing.T) {
	a := newTestAlipay(t, testConfig())
	params := map[string]string{
		"app_id":       testAppID,
		"method":       "alipay.trade.page.pay.return",
		"out_trade_no": "P20260102000001",
		"trade_no":     "2026010222001400000000000001",
		"total_amount": "88.88",
		"seller_id":    testSellerID,
		"timestamp":    "2026-01-02 11:05:00",
		"charset":      "utf-8",
		"version":      "1.0",
		"sign_type":    "RSA2",
	}
	query := signAs(t, platformKey(), params)
	got, err := a.VerifyReturn(query)
	if err != nil {
		t.Fatal(err)
	}
	if got != "P20260102000001" {
		t.Errorf("out_trade_no %q", got)
	}

	_, err = a.VerifyReturn(strings.Replace(query, "P20260102000001", "P20260102000002", 1))
	wantCode(t, err, cashier.EFORBIDDEN)
	params["app_id"] = "2021999999999999"
	_, err = a.VerifyReturn(signAs(t, platformKey(), params))
	wantCode(t, err, cashier.EUNPROCESSABLE)
}

func TestReply(t *testing.T) {
	a := newTestAlipay(t, testConfig())
	for ok, body := range map[bool]string{true: "success", false: "fail"} {
		r := a.Reply(ok)
		if r.Status != 200 || r.ContentType != "text/plain; charset=utf-8" || string(r.Body) != body {
			t.Errorf("Reply(%v) = %d %q %q", ok, r.Status, r.ContentType, r.Body)
		}
	}
}
