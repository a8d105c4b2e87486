package wechat

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"cashier/sandbox"

	"github.com/go-pay/gopay"
	gopaywechat "github.com/go-pay/gopay/wechat"

	"cashier"
)

// paid places and pays the app trade outTradeNo of amount.
func (w *wechatWorld) paid(outTradeNo string, amount int64) sandbox.PayAnswer {
	w.t.Helper()
	w.prepare("app", outTradeNo, amount)
	status, ans := w.payJSON(url.Values{"out_trade_no": {outTradeNo}})
	if status != http.StatusOK {
		w.t.Fatalf("pay %s: %d %+v", outTradeNo, status, ans)
	}
	return ans
}

// signedV2 completes a v2 call's fields and signs them with the API key (MD5).
func signedV2(fields gopay.BodyMap) gopay.BodyMap {
	fields.Set("appid", wxTestAppID).Set("mch_id", wxTestMchID).Set("nonce_str", "ibuaiVcKdpRxkhJA")
	fields.Set("sign", gopaywechat.GetReleaseSign(wxTestAPIKey, wechatMD5, fields))
	return fields
}

// settleForm posts the settle form and decodes its answer.
func (w *wechatWorld) settleForm(form url.Values) (int, []WeChatRefundSettled) {
	w.t.Helper()
	resp, err := w.srv.Client().PostForm(w.srv.URL+"/sandbox/wechat/refund/settle", form)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct{ Refunds []WeChatRefundSettled }
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &ans); err != nil {
			w.t.Fatalf("settle answer %s: %v", body, err)
		}
	}
	return resp.StatusCode, ans.Refunds
}

func TestWeChatV2RefundAPI(t *testing.T) {
	w := newWechatWorld(t, 2, "")
	paid := w.paid("S2RF", 1000)
	refund := func(no, fee string) gopay.BodyMap {
		return v2Post(t, w, "/sandbox/wechat/secapi/pay/refund", signedV2(gopay.BodyMap{
			"out_trade_no": "S2RF", "out_refund_no": no, "total_fee": "1000", "refund_fee": fee,
		}))
	}
	ans := refund("S2RF-1", "300")
	if ans.GetString("result_code") != "SUCCESS" || ans.GetString("refund_id") == "" || ans.GetString("refund_fee") != "300" || ans.GetString("transaction_id") != paid.ChannelTradeNo {
		t.Fatalf("refund %v", ans)
	}
	if ok, _ := gopaywechat.VerifySign(wxTestAPIKey, wechatMD5, ans); !ok {
		t.Error("refund answer not signed")
	}
	if again := refund("S2RF-1", "300"); again.GetString("refund_id") != ans.GetString("refund_id") {
		t.Errorf("same out_refund_no, another refund: %v", again)
	}
	// By transaction_id.
	byTxn := v2Post(t, w, "/sandbox/wechat/secapi/pay/refund", signedV2(gopay.BodyMap{
		"transaction_id": paid.ChannelTradeNo, "out_refund_no": "S2RF-2", "total_fee": "1000", "refund_fee": "200",
	}))
	if byTxn.GetString("result_code") != "SUCCESS" || byTxn.GetString("out_trade_no") != "S2RF" {
		t.Errorf("refund by transaction_id %v", byTxn)
	}
	for _, tc := range []struct {
		name, errCode string
		ans           gopay.BodyMap
	}{
		{"over the total", "ERROR", refund("S2RF-3", "501")},
		{"same number, other amount", "ERROR", refund("S2RF-1", "301")},
		{"no refund_fee", "PARAM_ERROR", v2Post(t, w, "/sandbox/wechat/secapi/pay/refund", signedV2(gopay.BodyMap{"out_trade_no": "S2RF", "out_refund_no": "S2RF-4", "total_fee": "1000"}))},
		{"other total", "PARAM_ERROR", v2Post(t, w, "/sandbox/wechat/secapi/pay/refund", signedV2(gopay.BodyMap{"out_trade_no": "S2RF", "out_refund_no": "S2RF-4", "total_fee": "999", "refund_fee": "1"}))},
		{"bad number", "PARAM_ERROR", refund("S2RF/4", "1")},
		{"unknown trade", "ORDERNOTEXIST", v2Post(t, w, "/sandbox/wechat/secapi/pay/refund", signedV2(gopay.BodyMap{"out_trade_no": "S2NONE", "out_refund_no": "S2RF-4", "total_fee": "1000", "refund_fee": "1"}))},
	} {
		if tc.ans.GetString("result_code") != "FAIL" || tc.ans.GetString("err_code") != tc.errCode {
			t.Errorf("%s: %v", tc.name, tc.ans)
		}
	}
	unsigned := v2Post(t, w, "/sandbox/wechat/secapi/pay/refund", gopay.BodyMap{"appid": wxTestAppID, "mch_id": wxTestMchID, "out_refund_no": "x"})
	if unsigned.GetString("return_code") != "FAIL" {
		t.Errorf("unsigned refund %v", unsigned)
	}

	// refundquery: one refund, or a trade's.
	query := func(k, v string) gopay.BodyMap {
		return v2Post(t, w, "/sandbox/wechat/pay/refundquery", signedV2(gopay.BodyMap{k: v}))
	}
	one := query("out_refund_no", "S2RF-2")
	if one.GetString("refund_count") != "1" || one.GetString("out_refund_no_0") != "S2RF-2" || one.GetString("refund_status_0") != "PROCESSING" ||
		one.GetString("refund_fee_0") != "200" || one.GetString("total_refund_count") != "2" {
		t.Errorf("query one %v", one)
	}
	if ok, _ := gopaywechat.VerifySign(wxTestAPIKey, wechatMD5, one); !ok {
		t.Error("refundquery answer not signed")
	}
	all := query("out_trade_no", "S2RF")
	if all.GetString("refund_count") != "2" || all.GetString("out_refund_no_0") != "S2RF-1" || all.GetString("out_refund_no_1") != "S2RF-2" || all.GetString("refund_fee") != "500" {
		t.Errorf("query all %v", all)
	}
	if q := query("refund_id", ans.GetString("refund_id")); q.GetString("out_refund_no_0") != "S2RF-1" {
		t.Errorf("query by refund_id %v", q)
	}
	if q := query("transaction_id", paid.ChannelTradeNo); q.GetString("refund_count") != "2" {
		t.Errorf("query by transaction_id %v", q)
	}
	if q := query("out_refund_no", "S2NONE"); q.GetString("err_code") != "REFUNDNOTEXIST" {
		t.Errorf("query unknown %v", q)
	}
	if q := v2Post(t, w, "/sandbox/wechat/pay/refundquery", signedV2(gopay.BodyMap{})); q.GetString("err_code") != "PARAM_ERROR" {
		t.Errorf("query of nothing %v", q)
	}
	// The trade shows its refunds.
	if q := v2Post(t, w, "/sandbox/wechat/pay/orderquery", signedV2(gopay.BodyMap{"out_trade_no": "S2RF"})); q.GetString("trade_state") != "REFUND" {
		t.Errorf("orderquery %v", q)
	}

	// Settled: SUCCESS, with its time.
	if settled := w.sim.SettleRefunds(t.Context()); len(settled) != 2 || settled[0].OutRefundNo != "S2RF-1" || settled[0].Note == "" {
		t.Errorf("settled %+v", settled) // no notify_url: nothing sent
	}
	one = query("out_refund_no", "S2RF-2")
	if one.GetString("refund_status_0") != "SUCCESS" || one.GetString("refund_success_time_0") == "" {
		t.Errorf("query settled %v", one)
	}
}

func TestWeChatV2RefundNotification(t *testing.T) {
	w := newWechatWorld(t, 2, "HMAC-SHA256")
	var (
		mu  sync.Mutex
		raw []byte
	)
	rawSrv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		raw, _ = io.ReadAll(r.Body)
		mu.Unlock()
		rw.Write(w.ch.Reply(true).Body)
	}))
	defer rawSrv.Close()

	paid := w.paid("S2RN", 1000)
	for _, no := range []string{"S2RN-1", "S2RN-2"} {
		req := cashier.RefundRequest{OutTradeNo: "S2RN", OutRefundNo: no, Amount: 400, Total: 1000, NotifyURL: w.srv.URL + "/notify/wechat"}
		if no == "S2RN-2" {
			req.NotifyURL = rawSrv.URL
		}
		if _, err := w.ch.Refund(t.Context(), req); err != nil {
			t.Fatal(err)
		}
	}
	settled := w.sim.SettleRefunds(t.Context())
	if len(settled) != 2 || settled[0].NotifyStatus != http.StatusOK || !strings.Contains(settled[0].NotifyReply, "SUCCESS") || settled[1].NotifyStatus != http.StatusOK {
		t.Fatalf("settled %+v", settled)
	}
	n, err := w.LastNote()
	if err != nil || n.Refund == nil || n.Refund.OutRefundNo != "S2RN-1" || n.Refund.Status != cashier.RefundSucceeded || n.ChannelTradeNo != paid.ChannelTradeNo {
		t.Fatalf("notification %+v, %v", n, err)
	}

	// As WeChat Pay sends it: no sign, req_info that gopay decrypts.
	mu.Lock()
	defer mu.Unlock()
	fields := make(gopay.BodyMap)
	if err := xml.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	if fields.GetString("sign") != "" || fields.GetString("return_code") != "SUCCESS" || fields.GetString("mch_id") != wxTestMchID {
		t.Errorf("notification %v", fields)
	}
	info, err := gopaywechat.DecryptRefundNotifyReqInfo(fields.GetString("req_info"), wxTestAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	if info.OutRefundNo != "S2RN-2" || info.RefundStatus != "SUCCESS" || info.RefundFee != "400" || info.TotalFee != "1000" || info.SuccessTime == "" || info.TransactionId != paid.ChannelTradeNo {
		t.Errorf("req_info %+v", info)
	}
	if _, err := gopaywechat.DecryptRefundNotifyReqInfo(fields.GetString("req_info"), strings.Repeat("0", 32)); err == nil {
		t.Error("req_info decrypts with another key")
	}
}

func TestWeChatV3RefundAPI(t *testing.T) {
	w := newWechatWorld(t, 3, "")
	paid := w.paid("S3RF", 1000)
	const path = "/sandbox/wechat/v3/refund/domestic/refunds"
	now := time.Now()
	refund := func(body string) (int, map[string]any) {
		resp, got := v3Do(t, w, "POST", path, body, wxMerchantKey(), now, wxTestMchID)
		if resp.Header.Get("Wechatpay-Signature") == "" {
			t.Errorf("answer not signed: %s", got)
		}
		var v map[string]any
		json.Unmarshal(got, &v)
		return resp.StatusCode, v
	}
	body := func(no string, amount, total int, currency string) string {
		b, _ := json.Marshal(map[string]any{
			"out_trade_no": "S3RF", "out_refund_no": no, "reason": "退货",
			"amount": map[string]any{"refund": amount, "total": total, "currency": currency},
		})
		return string(b)
	}
	status, ans := refund(body("S3RF-1", 300, 1000, "CNY"))
	if status != http.StatusOK || ans["status"] != "PROCESSING" || ans["refund_id"] == "" || ans["transaction_id"] != paid.ChannelTradeNo {
		t.Fatalf("refund %d %v", status, ans)
	}
	if amount, _ := ans["amount"].(map[string]any); amount["refund"] != 300.0 || amount["total"] != 1000.0 {
		t.Errorf("amount %v", ans["amount"])
	}
	if status, again := refund(body("S3RF-1", 300, 1000, "CNY")); status != http.StatusOK || again["refund_id"] != ans["refund_id"] {
		t.Errorf("same out_refund_no: %d %v", status, again)
	}
	for _, tc := range []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"over the total", body("S3RF-2", 701, 1000, "CNY"), http.StatusBadRequest, "INVALID_REQUEST"},
		{"other total", body("S3RF-2", 1, 999, "CNY"), http.StatusBadRequest, "PARAM_ERROR"},
		{"currency", body("S3RF-2", 1, 1000, "USD"), http.StatusBadRequest, "PARAM_ERROR"},
		{"no amount", `{"out_trade_no":"S3RF","out_refund_no":"S3RF-2"}`, http.StatusBadRequest, "PARAM_ERROR"},
		{"not JSON", `{`, http.StatusBadRequest, "PARAM_ERROR"},
		{"unknown trade", strings.Replace(body("S3RF-2", 1, 1000, "CNY"), `"S3RF"`, `"S3NONE"`, 1), http.StatusNotFound, "RESOURCE_NOT_EXISTS"},
	} {
		status, ans := refund(tc.body)
		if status != tc.status || ans["code"] != tc.code {
			t.Errorf("%s: %d %v", tc.name, status, ans)
		}
	}

	resp, got := v3Do(t, w, "GET", path+"/S3RF-1", "", wxMerchantKey(), now, wxTestMchID)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(got), `"status":"PROCESSING"`) {
		t.Errorf("query %d %s", resp.StatusCode, got)
	}
	resp, got = v3Do(t, w, "GET", path+"/S3NONE", "", wxMerchantKey(), now, wxTestMchID)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(got), "RESOURCE_NOT_EXISTS") {
		t.Errorf("query unknown %d %s", resp.StatusCode, got)
	}
	resp, got = v3Do(t, w, "GET", "/sandbox/wechat/v3/pay/transactions/out-trade-no/S3RF?mchid="+wxTestMchID, "", wxMerchantKey(), now, wxTestMchID)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(got), `"trade_state":"REFUND"`) {
		t.Errorf("trade query %d %s", resp.StatusCode, got)
	}
	resp, _ = v3Do(t, w, "POST", path, body("S3RF-2", 1, 1000, "CNY"), wxOtherKey(), now, wxTestMchID)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("refund signed by another key: %d", resp.StatusCode)
	}
}

func TestWeChatSettleRoute(t *testing.T) {
	w := newWechatWorld(t, 3, "")
	w.paid("S3ST", 1000)
	if status, settled := w.settleForm(nil); status != http.StatusOK || len(settled) != 0 {
		t.Errorf("nothing to settle: %d %+v", status, settled)
	}
	refund := func(no string, amount int64, notifyURL string) {
		t.Helper()
		_, err := w.ch.Refund(t.Context(), cashier.RefundRequest{OutTradeNo: "S3ST", OutRefundNo: no, Amount: amount, Total: 1000, NotifyURL: notifyURL})
		if err != nil {
			t.Fatal(err)
		}
	}
	refund("S3ST-1", 1000, w.srv.URL+"/notify/wechat")
	if status, _ := w.settleForm(url.Values{"result": {"maybe"}}); status != http.StatusBadRequest {
		t.Errorf("bad result: %d", status)
	}
	if status, _ := w.settleForm(url.Values{"out_refund_no": {"S3NONE"}}); status != http.StatusNotFound {
		t.Errorf("unknown refund: %d", status)
	}
	// Closed: notified, and the money can be refunded again.
	status, settled := w.settleForm(url.Values{"out_refund_no": {"S3ST-1"}, "result": {"closed"}})
	if status != http.StatusOK || len(settled) != 1 || settled[0].RefundStatus != "CLOSED" || settled[0].NotifyStatus != http.StatusNoContent {
		t.Fatalf("settle closed: %d %+v", status, settled)
	}
	if n, err := w.LastNote(); err != nil || n.Refund == nil || n.Refund.Status != cashier.RefundFailed || n.RawStatus != "CLOSED" {
		t.Errorf("notification %+v, %v", n, err)
	}
	if status, _ := w.settleForm(url.Values{"out_refund_no": {"S3ST-1"}}); status != http.StatusConflict {
		t.Errorf("settled twice: %d", status)
	}

	// cashier cannot be reached: the refund is settled all the same.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String() + "/notify/wechat"
	l.Close()
	refund("S3ST-2", 1000, dead)
	status, settled = w.settleForm(url.Values{})
	if status != http.StatusOK || len(settled) != 1 || settled[0].RefundStatus != "SUCCESS" || settled[0].Error == "" || settled[0].NotifyStatus != 0 {
		t.Fatalf("undeliverable: %d %+v", status, settled)
	}
	if res, err := w.ch.QueryRefund(t.Context(), cashier.Trade{OutTradeNo: "S3ST"}, "S3ST-2"); err != nil || res.Status != cashier.RefundSucceeded {
		t.Errorf("query %+v, %v", res, err)
	}
}

func TestWeChatRefundNotConfigured(t *testing.T) {
	sim := &WeChat{AppID: wxTestAppID, MchID: wxTestMchID}
	mux := http.NewServeMux()
	sim.Register(mux)
	for _, path := range []string{"/sandbox/wechat/secapi/pay/refund", "/sandbox/wechat/pay/refundquery", "/sandbox/wechat/v3/refund/domestic/refunds"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader("<xml/>")))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s: %d", path, rec.Code)
		}
	}
}
