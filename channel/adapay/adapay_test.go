package adapay

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"cashier"
	"cashier/pemkey"
)

var keys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var k [2]*rsa.PrivateKey
	for i := range k {
		k[i], _ = rsa.GenerateKey(rand.Reader, 1024)
	}
	return k
})

func newTest(t *testing.T, baseURL string, pub *rsa.PublicKey) *AdaPay {
	t.Helper()
	if pub == nil {
		pub = &keys()[1].PublicKey
	}
	a, err := New(Config{AppID: "app_1", APIKey: "api_live_1", PrivateKey: keys()[0], PublicKey: pub, BaseURL: baseURL})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The public webhook vector verifies with AdaPay's published key, and a
// changed byte of its data does not.
func TestWebhookVector(t *testing.T) {
	b, err := os.ReadFile("testdata/adapay_notify.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		PublicKey string `json:"public_key_b64der"`
		Data      string `json:"data"`
		Sign      string `json:"sign"`
	}
	json.Unmarshal(b, &v)
	pub, err := pemkey.ParseRSAPublicKey([]byte(v.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	a := newTest(t, "", pub)
	body := url.Values{"type": {"payment.succeeded"}, "data": {v.Data}, "sign": {v.Sign}, "id": {"0021100"}}.Encode()
	n, err := a.VerifyNotification(context.Background(), &cashier.InboundRequest{Body: []byte(body)})
	if err != nil {
		t.Fatal(err)
	}
	if n.OutTradeNo != "PY_20200103105147517447" || n.Amount != 1 || n.Status != cashier.NotifyPaid || n.ChannelTradeNo != "002112020010310514810059003925284544512" {
		t.Errorf("read as %+v", n)
	}
	reply := a.ReplyTo(&cashier.InboundRequest{Body: []byte(body)}, true)
	if reply.Status != 200 || string(reply.Body) != "RECV_ORD_ID_"+"020010310514810059003925284544512"[1:] {
		t.Errorf("reply %d %q", reply.Status, reply.Body)
	}
	if r := a.ReplyTo(&cashier.InboundRequest{Body: []byte(body)}, false); r.Status != 500 {
		t.Errorf("resend reply %d", r.Status)
	}
	tampered := url.Values{"type": {"payment.succeeded"}, "data": {strings.Replace(v.Data, `"0.01"`, `"1.00"`, 1)}, "sign": {v.Sign}}.Encode()
	if _, err := a.VerifyNotification(context.Background(), &cashier.InboundRequest{Body: []byte(tampered)}); cashier.ErrorCode(err) != cashier.EFORBIDDEN {
		t.Errorf("tampered data: %v", err)
	}
	other := url.Values{"app_id": {"app_other"}, "type": {"payment.succeeded"}, "data": {v.Data}, "sign": {v.Sign}}.Encode()
	if _, err := a.VerifyNotification(context.Background(), &cashier.InboundRequest{Body: []byte(other)}); cashier.ErrorCode(err) != cashier.EUNPROCESSABLE {
		t.Errorf("another app's webhook: %v", err)
	}
}

// A webhook AdaPay signed for another app (its key signs every merchant's)
// is not ours, whatever its unsigned envelope says.
func TestWebhookOfAnotherApp(t *testing.T) {
	a := newTest(t, "", nil)
	data := `{"id":"002112020010310514810059003925284544512","app_id":"app_other","order_no":"PY1","pay_amt":"0.01","status":"succeeded"}`
	for name, form := range map[string]url.Values{
		"signed app_id":          {"type": {"payment.succeeded"}, "data": {data}, "sign": {signWith(keys()[1], data)}},
		"envelope says it is us": {"app_id": {"app_1"}, "type": {"payment.succeeded"}, "data": {data}, "sign": {signWith(keys()[1], data)}},
	} {
		if _, err := a.VerifyNotification(context.Background(), &cashier.InboundRequest{Body: []byte(form.Encode())}); cashier.ErrorCode(err) != cashier.EUNPROCESSABLE {
			t.Errorf("%s: %v, want unprocessable", name, err)
		}
	}
	ours := strings.Replace(data, "app_other", "app_1", 1)
	form := url.Values{"app_id": {"app_1"}, "type": {"payment.succeeded"}, "data": {ours}, "sign": {signWith(keys()[1], ours)}}
	if _, err := a.VerifyNotification(context.Background(), &cashier.InboundRequest{Body: []byte(form.Encode())}); err != nil {
		t.Errorf("our own webhook: %v", err)
	}
}

// The webhook's type is not signed: what happened is read from its data,
// and a type that says otherwise is refused.
func TestWebhookTypeMustAgreeWithData(t *testing.T) {
	a := newTest(t, "", nil)
	payment := func(status string) string {
		return `{"id":"0021","app_id":"app_1","order_no":"PY1","pay_amt":"0.01","status":"` + status + `"}`
	}
	refund := func(status string) string {
		return `{"id":"0022","payment_id":"0021","refund_order_no":"RF1","refund_amt":"0.01","status":"` + status + `"}`
	}
	cases := []struct {
		typ, data string
		ok        bool
	}{
		{"payment.succeeded", payment("succeeded"), true},
		{"payment.failed", payment("failed"), true},
		{"payment.close", payment("closed"), true},
		{"payment.succeeded", payment("failed"), false},
		{"payment.succeeded", payment("pending"), false},
		{"payment.close", payment("succeeded"), false},
		{"payment.failed", payment("succeeded"), false},
		{"refund.succeeded", refund("succeeded"), true},
		{"refund.failed", refund("failed"), true},
		{"refund.failed", refund("succeeded"), false},
		{"refund.succeeded", refund("failed"), false},
		{"refund.succeeded", refund("pending"), false},
	}
	for _, c := range cases {
		form := url.Values{"type": {c.typ}, "data": {c.data}, "sign": {signWith(keys()[1], c.data)}}
		_, err := a.VerifyNotification(context.Background(), &cashier.InboundRequest{Body: []byte(form.Encode())})
		if c.ok && err != nil || !c.ok && cashier.ErrorCode(err) != cashier.EINVALID {
			t.Errorf("%s with %s: %v", c.typ, c.data, err)
		}
	}
}

// Requests are signed over the full URL and the body exactly as sent, with
// the api key beside: checked here with the standard library directly.
func TestRequestSignature(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		body = make([]byte, r.ContentLength)
		r.Body.Read(body)
		data := `{"id":"0021","object":"payment","order_no":"ADA1","pay_amt":"6.00","status":"pending","expend":{"qrcode_url":"https://qr.alipay.com/bax1"}}`
		json.NewEncoder(w).Encode(map[string]string{"data": data, "signature": signWith(keys()[1], data)})
	}))
	defer srv.Close()
	a := newTest(t, srv.URL, nil)
	cred, err := a.Prepare(context.Background(), cashier.PrepareRequest{Gateway: "alipay", OutTradeNo: "ADA1", Amount: 600, Subject: "pack", NotifyURL: "https://x/n"})
	if err != nil {
		t.Fatal(err)
	}
	if cred.Value != "alipays://platformapi/startapp?saId=10000007&qrcode=https://qr.alipay.com/bax1" || cred.ChannelTradeNo != "0021" {
		t.Errorf("credential %+v", cred)
	}
	sig, _ := base64.StdEncoding.DecodeString(got.Header.Get("Signature"))
	sum := sha1.Sum(append([]byte(srv.URL+"/v1/payments"), body...))
	if err := rsa.VerifyPKCS1v15(&keys()[0].PublicKey, crypto.SHA1, sum[:], sig); err != nil || got.Header.Get("Authorization") != "api_live_1" {
		t.Errorf("signature over URL+body: %v; Authorization %q", err, got.Header.Get("Authorization"))
	}
	var sent map[string]string
	json.Unmarshal(body, &sent)
	if sent["pay_amt"] != "6.00" || sent["pay_channel"] != "alipay_qr" || sent["order_no"] != "ADA1" || sent["currency"] != "cny" {
		t.Errorf("sent %v", sent)
	}
}

func signWith(key *rsa.PrivateKey, data string) string {
	sum := sha1.Sum([]byte(data))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA1, sum[:])
	return base64.StdEncoding.EncodeToString(sig)
}

// Answers that are not AdaPay's, or say no, are channel errors; nothing is
// believed that does not verify.
func TestAnswersThatFail(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"5xx without data": func(w http.ResponseWriter, r *http.Request) { http.Error(w, "busy", 500) },
		"signed by another key": func(w http.ResponseWriter, r *http.Request) {
			data := `{"id":"0021","order_no":"ADA1","status":"pending","expend":{"qrcode_url":"q"}}`
			json.NewEncoder(w).Encode(map[string]string{"data": data, "signature": signWith(keys()[0], data)})
		},
		"refused": func(w http.ResponseWriter, r *http.Request) {
			data := `{"status":"failed","error_code":"request_param_error","error_msg":"pay_amt"}`
			json.NewEncoder(w).Encode(map[string]string{"data": data, "signature": signWith(keys()[1], data)})
		},
	} {
		srv := httptest.NewServer(h)
		a := newTest(t, srv.URL, nil)
		_, err := a.Prepare(context.Background(), cashier.PrepareRequest{Gateway: "alipay", OutTradeNo: "ADA1", Amount: 600, Subject: "p"})
		if cashier.ErrorCode(err) != cashier.ECHANNEL {
			t.Errorf("%s: %v", name, err)
		}
		srv.Close()
	}
}
