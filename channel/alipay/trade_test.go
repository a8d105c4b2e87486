package alipay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"cashier"
)

// fakeGateway answers server-to-server calls with whatever answer returns,
// after checking that the request is signed by the app.
type fakeGateway struct {
	t      *testing.T
	answer func(method string, biz map[string]string) (raw string, sign string)
}

func (g *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/gateway.do" || r.Method != http.MethodPost {
		g.t.Errorf("request %s %s, want POST /gateway.do", r.Method, r.URL.Path)
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	params := map[string]string{}
	for k := range r.PostForm {
		params[k] = r.PostForm.Get(k)
	}
	if err := verifyRequest(&appKey().PublicKey, params); err != nil {
		g.t.Errorf("request signature: %v", err)
	}
	var biz map[string]string
	if err := json.Unmarshal([]byte(params["biz_content"]), &biz); err != nil {
		g.t.Errorf("biz_content: %v", err)
	}
	raw, sign := g.answer(params["method"], biz)
	key := strings.ReplaceAll(params["method"], ".", "_") + "_response"
	body := fmt.Sprintf(`{"%s":%s,"sign":%q}`, key, raw, sign)
	if sign == "" {
		body = fmt.Sprintf(`{"%s":%s}`, key, raw)
	}
	w.Header().Set("Content-Type", "text/html;charset=utf-8") // as Alipay does
	fmt.Fprint(w, body)
}

func platformSign(t *testing.T, raw string) string {
	return testSign(t, platformKey(), raw)
}

func newTradeAlipay(t *testing.T, answer func(method string, biz map[string]string) (string, string)) *Alipay {
	srv := httptest.NewServer(&fakeGateway{t: t, answer: answer})
	t.Cleanup(srv.Close)
	cfg := testConfig()
	cfg.GatewayURL = srv.URL + "/gateway.do"
	cfg.HTTPClient = srv.Client()
	return newTestAlipay(t, cfg)
}

func TestQuery(t *testing.T) {
	// Spacing and escapes as Alipay may send them: the signature covers these exact bytes.
	paid := `{"code":"10000","msg":"Success","buyer_logon_id":"159****5620","out_trade_no":"P1","trade_no":"2026010222001400000000000001",  "trade_status":"TRADE_SUCCESS","total_amount":"88.88","send_pay_date":"2026-01-02 11:04:59","note":"a\/b"}`
	a := newTradeAlipay(t, func(method string, biz map[string]string) (string, string) {
		if method != "alipay.trade.query" {
			t.Errorf("method %q", method)
		}
		switch biz["out_trade_no"] {
		case "P1":
			return paid, platformSign(t, paid)
		case "swapped": // genuine, but about another trade
			return paid, platformSign(t, paid)
		case "forged":
			return strings.Replace(paid, `"P1"`, `"forged"`, 1), platformSign(t, paid)
		case "unsigned":
			return strings.Replace(paid, `"P1"`, `"unsigned"`, 1), ""
		case "weird":
			raw := strings.Replace(strings.Replace(paid, `"P1"`, `"weird"`, 1), "TRADE_SUCCESS", "TRADE_WEIRD", 1)
			return raw, platformSign(t, raw)
		case "denied":
			raw := `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.SYSTEM_ERROR","sub_msg":"系统错误"}`
			return raw, ""
		default:
			raw := `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}`
			return raw, platformSign(t, raw)
		}
	})
	ctx := context.Background()
	n, err := a.Query(ctx, cashier.Trade{OutTradeNo: "P1"})
	if err != nil {
		t.Fatal(err)
	}
	if n.OutTradeNo != "P1" || n.Status != cashier.NotifyPaid || n.Amount != 8888 || n.RawStatus != "TRADE_SUCCESS" || n.PaidAt.IsZero() {
		t.Errorf("query result %+v", n)
	}

	_, err = a.Query(ctx, cashier.Trade{OutTradeNo: "nope"})
	wantCode(t, err, cashier.ENOTFOUND)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.SubCode != SubCodeTradeNotExist {
		t.Errorf("cause %v", err)
	}
	_, err = a.Query(ctx, cashier.Trade{OutTradeNo: "denied"})
	wantCode(t, err, cashier.ECHANNEL)
	if !strings.Contains(cashier.ErrorMessage(err), "系统错误") {
		t.Errorf("message %q lacks sub_msg", cashier.ErrorMessage(err))
	}
	for _, no := range []string{"swapped", "forged", "unsigned", "weird"} {
		_, err = a.Query(ctx, cashier.Trade{OutTradeNo: no})
		wantCode(t, err, cashier.ECHANNEL)
	}
}

func TestClose(t *testing.T) {
	a := newTradeAlipay(t, func(method string, biz map[string]string) (string, string) {
		if method != "alipay.trade.close" {
			t.Errorf("method %q", method)
		}
		var raw string
		switch biz["out_trade_no"] {
		case "open":
			raw = `{"code":"10000","msg":"Success","out_trade_no":"open","trade_no":"2026"}`
		case "paid":
			raw = `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_STATUS_ERROR","sub_msg":"交易状态不合法"}`
		case "unsigned-missing":
			return `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}`, ""
		case "forged-missing":
			raw = `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}`
			return raw, testSign(t, otherKey(), raw)
		case "bad-sign":
			raw = `{"code":"10000","msg":"Success"}`
			return raw, platformSign(t, raw+" ")
		case "invalid-args":
			return `{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature","sub_msg":"验签出错"}`, ""
		default:
			raw = `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}`
		}
		return raw, platformSign(t, raw)
	})
	ctx := context.Background()
	if err := a.Close(ctx, cashier.Trade{OutTradeNo: "open"}); err != nil {
		t.Errorf("close open trade: %v", err)
	}
	if err := a.Close(ctx, cashier.Trade{OutTradeNo: "unknown"}); err != nil {
		t.Errorf("close unknown trade: %v", err)
	}
	wantCode(t, a.Close(ctx, cashier.Trade{OutTradeNo: "paid"}), cashier.ECONFLICT)
	wantCode(t, a.Close(ctx, cashier.Trade{OutTradeNo: "unsigned-missing"}), cashier.ECHANNEL)
	wantCode(t, a.Close(ctx, cashier.Trade{OutTradeNo: "forged-missing"}), cashier.ECHANNEL)
	wantCode(t, a.Close(ctx, cashier.Trade{OutTradeNo: "bad-sign"}), cashier.ECHANNEL)
	err := a.Close(ctx, cashier.Trade{OutTradeNo: "invalid-args"})
	wantCode(t, err, cashier.ECHANNEL)
	if !strings.Contains(cashier.ErrorMessage(err), "验签出错") {
		t.Errorf("message %q lacks sub_msg", cashier.ErrorMessage(err))
	}
}

func TestGatewayFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("biz_content") == `{"out_trade_no":"html"}` {
			fmt.Fprint(w, "<html>busy</html>")
			return
		}
		http.Error(w, "oops", http.StatusInternalServerError)
	}))
	cfg := testConfig()
	cfg.GatewayURL = srv.URL + "/gateway.do"
	a := newTestAlipay(t, cfg)
	ctx := context.Background()
	_, err := a.Query(ctx, cashier.Trade{OutTradeNo: "P1"})
	wantCode(t, err, cashier.ECHANNEL)
	_, err = a.Query(ctx, cashier.Trade{OutTradeNo: "html"})
	wantCode(t, err, cashier.ECHANNEL)
	srv.Close()
	_, err = a.Query(ctx, cashier.Trade{OutTradeNo: "P1"})
	wantCode(t, err, cashier.EUNAVAILABLE)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	err = a.Close(cancelled, cashier.Trade{OutTradeNo: "P1"})
	if err == nil {
		t.Error("cancelled context ignored")
	}
}

func TestCertificateModeResponses(t *testing.T) {
	platformCert := selfSignedPEM(t, platformKey(), &platformKey().PublicKey)
	platformSN, err := CertSN(platformCert)
	if err != nil {
		t.Fatal(err)
	}
	raw := `{"code":"10000","msg":"Success","out_trade_no":"C1","trade_no":"2026","trade_status":"WAIT_BUYER_PAY","total_amount":"1.00"}`
	var answerSN, answerSign string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("app_cert_sn") != "e90dd23a37c5c7b616e003970817ff82" || r.FormValue("alipay_root_cert_sn") == "" {
			t.Errorf("request lacks certificate SNs: %v", r.Form)
		}
		fmt.Fprintf(w, `{"alipay_trade_query_response":%s,"alipay_cert_sn":%q,"sign":%q}`, raw, answerSN, answerSign)
	}))
	defer srv.Close()

	cfg := certConfig(t, platformCert)
	cfg.GatewayURL = srv.URL + "/gateway.do"
	a := newTestAlipay(t, cfg)

	answerSN, answerSign = platformSN, platformSign(t, raw)
	n, err := a.Query(context.Background(), cashier.Trade{OutTradeNo: "C1"})
	if err != nil || n.Status != cashier.NotifyPending {
		t.Fatalf("query: %+v, %v", n, err)
	}
	// Signed by someone else.
	answerSign = testSign(t, otherKey(), raw)
	_, err = a.Query(context.Background(), cashier.Trade{OutTradeNo: "C1"})
	wantCode(t, err, cashier.ECHANNEL)
	answerSign = platformSign(t, raw)
	// Alipay signed with a certificate we do not have: rotated.
	answerSN = "0123456789abcdef0123456789abcdef"
	_, err = a.Query(context.Background(), cashier.Trade{OutTradeNo: "C1"})
	wantCode(t, err, cashier.ECHANNEL)
}

func TestGatewayTransport(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		fmt.Fprint(w, "{}")
	}))
	defer srv.Close()
	gw, _ := url.Parse(srv.URL + "/sandbox/alipay/gateway.do")
	hc := gatewayClient(srv.Client(), gw).HttpClient

	resp, err := hc.Post("https://openapi.alipay.com/gateway.do?charset=utf-8", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got == nil || got.URL.Path != "/sandbox/alipay/gateway.do" || got.URL.RawQuery != "charset=utf-8" || got.Host != strings.TrimPrefix(srv.URL, "http://") {
		t.Fatalf("request arrived as %v", got)
	}

	got = nil
	for _, u := range []string{"https://openapi-sandbox.dl.alipaydev.com/gateway.do", "http://openapi.alipay.com/gateway.do", "https://openapi.alipay.com/other"} {
		if resp, err := hc.Post(u, "text/plain", strings.NewReader("x")); err == nil {
			resp.Body.Close()
			t.Errorf("%s: sent", u)
		}
	}
	if got != nil {
		t.Error("a refused request reached the gateway")
	}
}
