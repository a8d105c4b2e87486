package alipay

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"cashier"
	"cashier/channel/alipay"
	"cashier/pemkey"
	"cashier/sandbox"
	"cashier/sandbox/sandboxtest"
)

const sandboxAppID = "9021000000000001"

// keyPair makes (or reuses) a key pair the way cashier's sandbox mode does.
func keyPair(t *testing.T, dir, name string) *rsa.PrivateKey {
	t.Helper()
	key, err := pemkey.EnsureRSAKeyPair(dir, name, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// world is cashier's side (the channel and its notify and return endpoints)
// and the simulator, on one loopback server.
type world struct {
	t       *testing.T
	sandbox *Alipay
	channel *alipay.Alipay
	srv     *httptest.Server

	sandboxtest.NotifyEndpoint

	mu          sync.Mutex
	credentials map[string]string // out_trade_no → credential, cashier's store
}

func newWorld(t *testing.T) *world {
	t.Helper()
	appKey := keyPair(t, testKeyDir, "alipay_app")
	platformKey := keyPair(t, testKeyDir, "alipay_platform")
	w := &world{
		t:              t,
		NotifyEndpoint: sandboxtest.NotifyEndpoint{T: t, ContentType: "application/x-www-form-urlencoded"},
		credentials:    map[string]string{},
	}
	w.sandbox = &Alipay{
		AppID:        sandboxAppID,
		AppPublicKey: &appKey.PublicKey,
		PlatformKey:  platformKey,
		Lookup:       w.lookup,
	}
	mux := http.NewServeMux()
	w.sandbox.Register(mux)
	mux.Handle("POST /notify/alipay", &w.NotifyEndpoint)
	w.srv = httptest.NewServer(mux)
	t.Cleanup(w.srv.Close)
	w.sandbox.HTTPClient = w.srv.Client()

	ch, err := alipay.New(alipay.Config{
		AppID:           sandboxAppID,
		PrivateKey:      appKey,
		AlipayPublicKey: &platformKey.PublicKey,
		SellerID:        w.sandbox.SellerID(),
		GatewayURL:      w.srv.URL + "/sandbox/alipay/gateway.do",
		HTTPClient:      w.srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	w.channel, w.Verifier = ch, ch
	return w
}

func (w *world) lookup(_ context.Context, outTradeNo string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	cred, ok := w.credentials[outTradeNo]
	if !ok {
		return "", cashier.Errorf(cashier.ENOTFOUND, "no payment attempt %s", outTradeNo)
	}
	return cred, nil
}

func (w *world) prepare(gateway, outTradeNo string, fen int64, subject string) string {
	w.t.Helper()
	now := time.Now()
	cred, err := w.channel.Prepare(context.Background(), cashier.PrepareRequest{
		Gateway:    gateway,
		OutTradeNo: outTradeNo,
		Amount:     fen,
		Subject:    subject,
		Now:        now,
		ExpiresAt:  now.Add(30 * time.Minute),
		NotifyURL:  w.srv.URL + "/notify/alipay",
		ReturnURL:  w.srv.URL + "/return/alipay",
	})
	if err != nil {
		w.t.Fatal(err)
	}
	s := cred.Value.(string)
	w.mu.Lock()
	w.credentials[outTradeNo] = s
	w.mu.Unlock()
	return s
}

// post sends a form to the sandbox without following redirects.
func (w *world) post(path string, form url.Values, accept string) *http.Response {
	w.t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	client := *w.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func decodeAnswer(t *testing.T, resp *http.Response) sandbox.PayAnswer {
	t.Helper()
	var a sandbox.PayAnswer
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("answer %q: %v", body, err)
	}
	return a
}

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

func TestPayByOrderString(t *testing.T) {
	w := newWorld(t)
	orderString := w.prepare("app", "A1", 1234, "金币 a+b c & more")
	resp := w.post("/sandbox/alipay/pay", url.Values{"order_string": {orderString}}, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	ans := decodeAnswer(t, resp)
	if ans.Status != "TRADE_SUCCESS" || ans.NotifyStatus != 200 || ans.NotifyReply != "success" || ans.OutTradeNo != "A1" {
		t.Fatalf("answer %+v", ans)
	}
	if len(ans.ChannelTradeNo) != 28 {
		t.Errorf("trade_no %q", ans.ChannelTradeNo)
	}
	n, err := w.LastNote()
	if err != nil {
		t.Fatal(err)
	}
	if n.OutTradeNo != "A1" || n.ChannelTradeNo != ans.ChannelTradeNo || n.Amount != 1234 || n.Status != cashier.NotifyPaid || n.PaidAt.IsZero() {
		t.Errorf("notification %+v", n)
	}

	// Paying again is refused, and sends nothing.
	resp = w.post("/sandbox/alipay/pay", url.Values{"order_string": {orderString}}, "application/json")
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("second payment: status %d", resp.StatusCode)
	}
	if w.NoteCount() != 1 {
		t.Errorf("%d notifications", w.NoteCount())
	}
}

func TestPayByOutTradeNo(t *testing.T) {
	w := newWorld(t)
	w.prepare("wap", "W1", 1, "one fen")
	resp := w.post("/sandbox/alipay/pay", url.Values{"out_trade_no": {"W1"}}, "")
	ans := decodeAnswer(t, resp)
	if resp.StatusCode != http.StatusOK || ans.Status != "TRADE_SUCCESS" || ans.NotifyReply != "success" {
		t.Fatalf("status %d, answer %+v", resp.StatusCode, ans)
	}
	n, err := w.LastNote()
	if err != nil || n.Amount != 1 || n.Status != cashier.NotifyPaid {
		t.Fatalf("notification %+v, %v", n, err)
	}

	resp = w.post("/sandbox/alipay/pay", url.Values{"out_trade_no": {"nobody"}}, "")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown out_trade_no: status %d", resp.StatusCode)
	}
	// out_trade_no and order_string must agree.
	other := w.prepare("app", "W2", 100, "x")
	resp = w.post("/sandbox/alipay/pay", url.Values{"out_trade_no": {"W1"}, "order_string": {other}}, "")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("mismatched out_trade_no: status %d", resp.StatusCode)
	}
}

func TestBrowserWebFlow(t *testing.T) {
	w := newWorld(t)
	payURL := w.prepare("web", "B1", 990, `<script>alert("x")</script>`)
	resp, err := w.srv.Client().Get(payURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("pay page: status %d: %s", resp.StatusCode, page)
	}
	for _, want := range []string{"9.90", "B1", "&lt;script&gt;", `name="order_string"`, `value="success"`, `value="fail"`, `action="/sandbox/alipay/pay"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("pay page lacks %q", want)
		}
	}
	if strings.Contains(string(page), "<script>alert") {
		t.Error("pay page does not escape the subject")
	}

	// The page's Pay button.
	_, query, _ := strings.Cut(payURL, "?")
	resp = w.post("/sandbox/alipay/pay", url.Values{"out_trade_no": {"B1"}, "result": {"success"}, "order_string": {query}}, browserAccept)
	if resp.StatusCode != http.StatusSeeOther {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Path != "/return/alipay" {
		t.Errorf("redirected to %s", loc)
	}
	if got := loc.Query().Get("method"); got != "alipay.trade.page.pay.return" {
		t.Errorf("return method %q", got)
	}
	outTradeNo, err := w.channel.VerifyReturn(loc.RawQuery)
	if err != nil || outTradeNo != "B1" {
		t.Fatalf("VerifyReturn: %q, %v", outTradeNo, err)
	}
	if n, err := w.LastNote(); err != nil || n.Status != cashier.NotifyPaid {
		t.Fatalf("notification %+v, %v", n, err)
	}

	// A paid trade's page says so.
	resp, err = w.srv.Client().Get(payURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("paid trade's page: status %d", resp.StatusCode)
	}
}

func TestFailResultClosesTrade(t *testing.T) {
	w := newWorld(t)
	w.prepare("wap", "F1", 500, "cancel me")
	resp := w.post("/sandbox/alipay/pay", url.Values{"out_trade_no": {"F1"}, "result": {"fail"}}, "")
	ans := decodeAnswer(t, resp)
	if ans.Status != "TRADE_CLOSED" || ans.NotifyReply != "success" {
		t.Fatalf("answer %+v", ans)
	}
	n, err := w.LastNote()
	if err != nil || n.Status != cashier.NotifyClosed || n.RawStatus != "TRADE_CLOSED" || !n.PaidAt.IsZero() {
		t.Fatalf("notification %+v, %v", n, err)
	}
	resp = w.post("/sandbox/alipay/pay", url.Values{"out_trade_no": {"F1"}}, "")
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("paying a closed trade: status %d", resp.StatusCode)
	}
	resp = w.post("/sandbox/alipay/pay", url.Values{"out_trade_no": {"F1"}, "result": {"maybe"}}, "")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("result=maybe: status %d", resp.StatusCode)
	}
}

func TestBadAppSignatureRejected(t *testing.T) {
	w := newWorld(t)
	good := w.prepare("wap", "S1", 100, "signed")
	_, query, _ := strings.Cut(good, "?")
	tampered := strings.Replace(query, "1.00", "0.01", 1)
	if tampered == query {
		t.Fatal("amount not found in the order")
	}

	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	forger, err := alipay.New(alipay.Config{
		AppID: sandboxAppID, PrivateKey: otherKey, AlipayPublicKey: &otherKey.PublicKey,
		GatewayURL: w.srv.URL + "/sandbox/alipay/gateway.do",
	})
	if err != nil {
		t.Fatal(err)
	}
	forged, err := forger.Prepare(context.Background(), cashier.PrepareRequest{
		Gateway: "app", OutTradeNo: "S2", Amount: 100, Subject: "forged",
		NotifyURL: w.srv.URL + "/notify/alipay",
	})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := url.ParseQuery(query)
	v.Del("sign")
	unsigned := v.Encode()

	// Signed with the right key, for another app.
	otherApp, err := alipay.New(alipay.Config{
		AppID: "9021000000000999", PrivateKey: keyPair(t, testKeyDir, "alipay_app"), AlipayPublicKey: &otherKey.PublicKey,
		GatewayURL: w.srv.URL + "/sandbox/alipay/gateway.do",
	})
	if err != nil {
		t.Fatal(err)
	}
	wrongApp, err := otherApp.Prepare(context.Background(), cashier.PrepareRequest{
		Gateway: "app", OutTradeNo: "S4", Amount: 100, Subject: "other app",
		NotifyURL: w.srv.URL + "/notify/alipay",
	})
	if err != nil {
		t.Fatal(err)
	}

	for name, order := range map[string]string{
		"tampered amount": tampered,
		"other key":       forged.Value.(string),
		"other app":       wrongApp.Value.(string),
		"no sign":         unsigned,
		"garbage":         "%%%",
	} {
		resp := w.post("/sandbox/alipay/pay", url.Values{"order_string": {order}}, "")
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "error") {
			t.Errorf("%s: status %d: %s", name, resp.StatusCode, body)
		}
		pageResp, err := w.srv.Client().Get(w.srv.URL + "/sandbox/alipay/gateway.do?" + order)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(pageResp.Body)
		pageResp.Body.Close()
		if pageResp.StatusCode != http.StatusBadRequest || !strings.Contains(string(page), "Alipay sandbox: request rejected") {
			t.Errorf("%s: page status %d: %s", name, pageResp.StatusCode, page)
		}
	}
	if w.NoteCount() != 0 {
		t.Errorf("%d notifications for rejected orders", w.NoteCount())
	}

	// The app order string is not a browser page.
	app := w.prepare("app", "S3", 100, "app")
	resp, err := w.srv.Client().Get(w.srv.URL + "/sandbox/alipay/gateway.do?" + app)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("app order as page: status %d", resp.StatusCode)
	}
}

func TestNotifyDeliveryFailure(t *testing.T) {
	w := newWorld(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close() // connection refused from now on

	now := time.Now()
	cred, err := w.channel.Prepare(context.Background(), cashier.PrepareRequest{
		Gateway: "app", OutTradeNo: "D1", Amount: 100, Subject: "dead letter",
		Now: now, ExpiresAt: now.Add(time.Hour), NotifyURL: deadURL + "/notify",
	})
	if err != nil {
		t.Fatal(err)
	}
	resp := w.post("/sandbox/alipay/pay", url.Values{"order_string": {cred.Value.(string)}}, "")
	ans := decodeAnswer(t, resp)
	if resp.StatusCode != http.StatusBadGateway || ans.Error == "" || ans.Status != "TRADE_SUCCESS" {
		t.Fatalf("status %d, answer %+v", resp.StatusCode, ans)
	}
}

func TestExpiredOrderRefused(t *testing.T) {
	w := newWorld(t)
	w.prepare("wap", "E1", 100, "late")
	w.sandbox.Now = func() time.Time { return time.Now().Add(31 * time.Minute) }
	resp := w.post("/sandbox/alipay/pay", url.Values{"out_trade_no": {"E1"}}, "")
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestQueryAndCloseEndToEnd(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()

	// Prepared, never opened: Alipay does not know it; closing it is fine and
	// makes it unpayable.
	w.prepare("web", "Q1", 300, "never opened")
	_, err := w.channel.Query(ctx, cashier.Trade{OutTradeNo: "Q1"})
	if cashier.ErrorCode(err) != cashier.ENOTFOUND {
		t.Fatalf("query unopened: %v", err)
	}
	var apiErr *alipay.APIError
	if !errors.As(err, &apiErr) || apiErr.SubCode != alipay.SubCodeTradeNotExist {
		t.Errorf("cause %v", err)
	}
	if err := w.channel.Close(ctx, cashier.Trade{OutTradeNo: "Q1"}); err != nil {
		t.Fatalf("close unopened: %v", err)
	}
	n, err := w.channel.Query(ctx, cashier.Trade{OutTradeNo: "Q1"})
	if err != nil || n.Status != cashier.NotifyClosed {
		t.Fatalf("query closed: %+v, %v", n, err)
	}
	if resp := w.post("/sandbox/alipay/pay", url.Values{"out_trade_no": {"Q1"}}, ""); resp.StatusCode != http.StatusConflict {
		t.Errorf("paying a closed trade: status %d", resp.StatusCode)
	}

	// Opened in the browser: waiting for the buyer.
	payURL := w.prepare("wap", "Q2", 450, "opened")
	resp, err := w.srv.Client().Get(payURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	n, err = w.channel.Query(ctx, cashier.Trade{OutTradeNo: "Q2"})
	if err != nil || n.Status != cashier.NotifyPending || n.RawStatus != "WAIT_BUYER_PAY" || n.Amount != 450 {
		t.Fatalf("query opened: %+v, %v", n, err)
	}
	if err := w.channel.Close(ctx, cashier.Trade{OutTradeNo: "Q2"}); err != nil {
		t.Fatal(err)
	}
	if err := w.channel.Close(ctx, cashier.Trade{OutTradeNo: "Q2"}); err != nil {
		t.Errorf("closing twice: %v", err)
	}

	// Paid: the query says so, and it cannot be closed.
	w.prepare("app", "Q3", 600, "paid")
	ans := decodeAnswer(t, w.post("/sandbox/alipay/pay", url.Values{"out_trade_no": {"Q3"}}, ""))
	n, err = w.channel.Query(ctx, cashier.Trade{OutTradeNo: "Q3"})
	if err != nil || n.Status != cashier.NotifyPaid || n.Amount != 600 || n.ChannelTradeNo != ans.ChannelTradeNo || n.PaidAt.IsZero() {
		t.Fatalf("query paid: %+v, %v", n, err)
	}
	err = w.channel.Close(ctx, cashier.Trade{OutTradeNo: "Q3"})
	if cashier.ErrorCode(err) != cashier.ECONFLICT {
		t.Errorf("close paid: %v", err)
	}

	// Unknown everywhere: nothing to close.
	if err := w.channel.Close(ctx, cashier.Trade{OutTradeNo: "nobody"}); err != nil {
		t.Errorf("close unknown: %v", err)
	}
}

func TestAPIRejectsBadSignature(t *testing.T) {
	w := newWorld(t)
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	w.prepare("app", "X1", 100, "x")
	impostor, err := alipay.New(alipay.Config{
		AppID: sandboxAppID, PrivateKey: otherKey, AlipayPublicKey: &w.sandbox.PlatformKey.PublicKey,
		GatewayURL: w.srv.URL + "/sandbox/alipay/gateway.do", HTTPClient: w.srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = impostor.Query(context.Background(), cashier.Trade{OutTradeNo: "X1"})
	if cashier.ErrorCode(err) != cashier.ECHANNEL {
		t.Fatalf("query with a foreign key: %v", err)
	}
	var apiErr *alipay.APIError
	if !errors.As(err, &apiErr) || apiErr.SubCode != "isv.invalid-signature" {
		t.Errorf("cause %v", err)
	}
	if err := impostor.Close(context.Background(), cashier.Trade{OutTradeNo: "X1"}); cashier.ErrorCode(err) != cashier.ECHANNEL {
		t.Errorf("close with a foreign key: %v", err)
	}

	// Responses are signed with the platform key: a channel expecting another
	// platform key refuses them.
	suspicious, err := alipay.New(alipay.Config{
		AppID: sandboxAppID, PrivateKey: keyPair(t, testKeyDir, "alipay_app"), AlipayPublicKey: &otherKey.PublicKey,
		GatewayURL: w.srv.URL + "/sandbox/alipay/gateway.do", HTTPClient: w.srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := suspicious.Query(context.Background(), cashier.Trade{OutTradeNo: "X1"}); cashier.ErrorCode(err) != cashier.ECHANNEL {
		t.Errorf("query verified with a wrong platform key: %v", err)
	}
}

func TestSellerIDStable(t *testing.T) {
	w := newWorld(t)
	id := w.sandbox.SellerID()
	if len(id) != 16 || !strings.HasPrefix(id, "2088") {
		t.Errorf("seller id %q", id)
	}
	again := &Alipay{PlatformKey: w.sandbox.PlatformKey}
	if again.SellerID() != id {
		t.Error("seller id changes with the instance")
	}
	if w.sandbox.buyerID() == id {
		t.Error("buyer and seller are the same user")
	}
}
