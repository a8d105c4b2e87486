package apple_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cashier"
	"cashier/channel/apple"
	applesim "cashier/sandbox/apple"
)

const bundle = "com.example.game"

// fixture is a channel pinning a test root, and the simulator's tools to
// sign as Apple would.
type fixture struct {
	ch    *apple.Apple
	chain *applesim.Chain
	sim   *applesim.Apple
	otn   string
	token string
}

func newFixture(t *testing.T, acceptSandbox bool) *fixture {
	t.Helper()
	chain, err := applesim.NewChain(applesim.ChainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := apple.New(apple.Config{BundleID: bundle, AppAppleID: 42, AcceptSandbox: acceptSandbox,
		TicketSecret: []byte("secret"), Root: chain.Root})
	if err != nil {
		t.Fatal(err)
	}
	otn := "APL202612020600001234567890"
	token, err := apple.AccountToken(otn)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{ch: ch, chain: chain, sim: &applesim.Apple{BundleID: bundle, AppAppleID: 42, Chain: chain}, otn: otn, token: token}
}

// transaction is a genuine production purchase of the fixture's attempt.
func (f *fixture) transaction() applesim.Transaction {
	tx := *f.sim.Purchase("com.example.gold60", f.token)
	tx.Environment = apple.Production
	return tx
}

func sign(t *testing.T, c *applesim.Chain, v any) string {
	t.Helper()
	s, err := applesim.Sign(c, v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func otherChain(t *testing.T, opts applesim.ChainOptions) *applesim.Chain {
	t.Helper()
	c, err := applesim.NewChain(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// chainUnderRoot makes a chain shaped by opts (a marker missing, a leaf
// expired) and pins its root in the fixture's channel: everything about it
// is Apple's but what opts changes.
func chainUnderRoot(t *testing.T, f *fixture, opts applesim.ChainOptions) *applesim.Chain {
	t.Helper()
	c := otherChain(t, opts)
	ch, err := apple.New(apple.Config{BundleID: bundle, TicketSecret: []byte("secret"), Root: c.Root})
	if err != nil {
		t.Fatal(err)
	}
	f.ch = ch
	return c
}

func TestVerifySignedTransaction(t *testing.T) {
	type tc struct {
		name   string
		accept bool // accept_sandbox
		jws    func(t *testing.T, f *fixture) string
		want   string
	}
	genuine := func(edit func(*applesim.Transaction)) func(t *testing.T, f *fixture) string {
		return func(t *testing.T, f *fixture) string {
			tx := f.transaction()
			if edit != nil {
				edit(&tx)
			}
			return sign(t, f.chain, tx)
		}
	}
	underRoot := func(opts applesim.ChainOptions, signedAt time.Time) func(t *testing.T, f *fixture) string {
		return func(t *testing.T, f *fixture) string {
			c := chainUnderRoot(t, f, opts)
			tx := f.transaction()
			tx.SignedDate = signedAt.UnixMilli()
			return sign(t, c, tx)
		}
	}
	now := time.Now()
	cases := []tc{
		{name: "genuine", jws: genuine(nil), want: ""},
		{name: "sandbox purchase where sandbox is accepted", accept: true, jws: genuine(func(tx *applesim.Transaction) { tx.Environment = apple.Sandbox }), want: ""},
		{name: "leaf expired today, valid when it signed", jws: underRoot(applesim.ChainOptions{LeafNotAfter: now.Add(-10 * time.Minute)}, now.Add(-30*time.Minute)), want: ""},
		{name: "another root", jws: func(t *testing.T, f *fixture) string {
			return sign(t, otherChain(t, applesim.ChainOptions{}), f.transaction())
		}, want: cashier.EFORBIDDEN},
		{name: "leaf without Apple's marker", jws: underRoot(applesim.ChainOptions{NoLeafMarker: true}, now), want: cashier.EFORBIDDEN},
		{name: "intermediate without Apple's marker", jws: underRoot(applesim.ChainOptions{NoIntermediateMarker: true}, now), want: cashier.EFORBIDDEN},
		{name: "leaf expired when it signed", jws: underRoot(applesim.ChainOptions{LeafNotAfter: now.Add(-10 * time.Minute)}, now), want: cashier.EFORBIDDEN},
		{name: "bad signature", jws: func(t *testing.T, f *fixture) string {
			s := genuine(nil)(t, f)
			sig, _ := base64.RawURLEncoding.DecodeString(s[strings.LastIndex(s, ".")+1:])
			sig[10] ^= 1
			return s[:strings.LastIndex(s, ".")+1] + base64.RawURLEncoding.EncodeToString(sig)
		}, want: cashier.EFORBIDDEN},
		{name: "payload changed after signing", jws: func(t *testing.T, f *fixture) string {
			parts := strings.Split(genuine(nil)(t, f), ".")
			raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
			parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), "gold60", "gold99", 1)))
			return strings.Join(parts, ".")
		}, want: cashier.EFORBIDDEN},
		{name: "alg not ES256", jws: func(t *testing.T, f *fixture) string {
			parts := strings.Split(genuine(nil)(t, f), ".")
			var h map[string]any
			raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
			json.Unmarshal(raw, &h)
			h["alg"] = "HS256"
			b, _ := json.Marshal(h)
			parts[0] = base64.RawURLEncoding.EncodeToString(b)
			return strings.Join(parts, ".")
		}, want: cashier.EFORBIDDEN},
		{name: "only the leaf in x5c", jws: func(t *testing.T, f *fixture) string {
			parts := strings.Split(genuine(nil)(t, f), ".")
			b, _ := json.Marshal(map[string]any{"alg": "ES256", "x5c": f.chain.X5C()[:1]})
			parts[0] = base64.RawURLEncoding.EncodeToString(b)
			return strings.Join(parts, ".")
		}, want: cashier.EFORBIDDEN},
		{name: "another app's bundle", jws: genuine(func(tx *applesim.Transaction) { tx.BundleID = "com.example.other" }), want: cashier.EUNPROCESSABLE},
		{name: "sandbox purchase where only production is accepted", jws: genuine(func(tx *applesim.Transaction) { tx.Environment = apple.Sandbox }), want: cashier.EUNPROCESSABLE},
		{name: "no appAccountToken", jws: genuine(func(tx *applesim.Transaction) { tx.AppAccountToken = "" }), want: cashier.EUNPROCESSABLE},
		{name: "a token cashier never gave", jws: genuine(func(tx *applesim.Transaction) { tx.AppAccountToken = "7d3f2a9c-1b4e-4f6a-9c2d-5e8f7a6b3c1d" }), want: cashier.EUNPROCESSABLE},
		{name: "revoked", jws: genuine(func(tx *applesim.Transaction) { tx.RevocationDate = now.UnixMilli() }), want: cashier.EUNPROCESSABLE},
		{name: "a subscription", jws: genuine(func(tx *applesim.Transaction) { tx.Type = "Auto-Renewable Subscription" }), want: cashier.EUNPROCESSABLE},
		{name: "two of the product", jws: genuine(func(tx *applesim.Transaction) { tx.Quantity = 2 }), want: cashier.EUNPROCESSABLE},
		{name: "not a JWS", jws: func(*testing.T, *fixture) string { return "not-a-jws" }, want: cashier.EINVALID},
		{name: "garbage segments", jws: func(*testing.T, *fixture) string { return "a.b.c" }, want: cashier.EINVALID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.accept)
			jws := c.jws(t, f)
			ns, err := f.ch.VerifyPurchase(context.Background(), cashier.PurchaseProof{SignedTransaction: jws})
			if got := cashier.ErrorCode(err); c.want == "" && err != nil || c.want != "" && got != c.want {
				t.Fatalf("got %v (%s), want %q", err, got, c.want)
			}
			if c.want == "" && (len(ns) != 1 || ns[0].OutTradeNo != f.otn || ns[0].Status != cashier.NotifyPaid ||
				ns[0].ProductID != "com.example.gold60" || len(ns[0].Claims) != 1 || ns[0].Claims[0] != ns[0].ChannelTradeNo) {
				t.Fatalf("verified as %+v", ns)
			}
		})
	}
}

func TestNotificationTypes(t *testing.T) {
	f := newFixture(t, false)
	tx := f.transaction()
	note := func(typ string, tx applesim.Transaction, edit func(map[string]any)) *cashier.InboundRequest {
		payload := map[string]any{"notificationType": typ, "notificationUUID": "u", "version": "2.0", "signedDate": time.Now().UnixMilli(),
			"data": map[string]any{"appAppleId": 42, "bundleId": tx.BundleID, "environment": tx.Environment,
				"signedTransactionInfo": sign(t, f.chain, tx)}}
		if edit != nil {
			edit(payload)
		}
		body, _ := json.Marshal(map[string]string{"signedPayload": sign(t, f.chain, payload)})
		return &cashier.InboundRequest{Method: "POST", Body: body}
	}
	ctx := context.Background()
	n, err := f.ch.VerifyNotification(ctx, note("ONE_TIME_CHARGE", tx, nil))
	if err != nil || n.Status != cashier.NotifyPaid || n.OutTradeNo != f.otn || n.ChannelTradeNo != tx.TransactionID {
		t.Errorf("ONE_TIME_CHARGE: %+v %v", n, err)
	}
	revoked := tx
	revoked.RevocationDate = time.Now().UnixMilli()
	for _, typ := range []string{"REFUND", "REVOKE"} {
		n, err := f.ch.VerifyNotification(ctx, note(typ, revoked, nil))
		if err != nil || n.Status != cashier.NotifyRefunded || n.OutTradeNo != "" || n.Claims[0] != tx.TransactionID {
			t.Errorf("%s: %+v %v", typ, n, err)
		}
	}
	for _, typ := range []string{"CONSUMPTION_REQUEST", "REFUND_DECLINED", "DID_RENEW"} {
		n, err := f.ch.VerifyNotification(ctx, note(typ, tx, nil))
		if err != nil || n.Status != cashier.NotifyPending || n.OutTradeNo != "" || len(n.Claims) != 0 {
			t.Errorf("%s: %+v %v", typ, n, err)
		}
	}
	n, err = f.ch.VerifyNotification(ctx, note("TEST", tx, func(p map[string]any) { delete(p, "data") }))
	if err != nil || n.Status != cashier.NotifyPending {
		t.Errorf("TEST: %+v %v", n, err)
	}
	if _, err := f.ch.VerifyNotification(ctx, note("REFUND", revoked, func(p map[string]any) { p["data"].(map[string]any)["appAppleId"] = 7 })); cashier.ErrorCode(err) != cashier.EUNPROCESSABLE {
		t.Errorf("another app's Apple ID: %v", err)
	}
	forgedInner := note("ONE_TIME_CHARGE", tx, func(p map[string]any) {
		p["data"].(map[string]any)["signedTransactionInfo"] = sign(t, otherChain(t, applesim.ChainOptions{}), tx)
	})
	if _, err := f.ch.VerifyNotification(ctx, forgedInner); cashier.ErrorCode(err) != cashier.EFORBIDDEN {
		t.Errorf("a genuine notification around a forged transaction: %v", err)
	}
	for _, body := range []string{"", "{}", `{"signedPayload": ""}`, `{"signedPayload": "x.y.z"}`} {
		if _, err := f.ch.VerifyNotification(ctx, &cashier.InboundRequest{Body: []byte(body)}); cashier.ErrorCode(err) != cashier.EINVALID {
			t.Errorf("%q: %v", body, err)
		}
	}
}

func TestVerifyReceipt(t *testing.T) {
	chain, err := applesim.NewChain(applesim.ChainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sim := &applesim.Apple{BundleID: bundle, SharedSecret: "shared", Chain: chain}
	mux := http.NewServeMux()
	sim.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	open := func(secret string, acceptSandbox bool) *apple.Apple {
		ch, err := apple.New(apple.Config{BundleID: bundle, TicketSecret: []byte("t"), SharedSecret: secret, AcceptSandbox: acceptSandbox,
			Root: chain.Root, VerifyReceiptURL: srv.URL + "/sandbox/apple/verifyReceipt",
			SandboxVerifyReceiptURL: srv.URL + "/sandbox/apple/sandbox/verifyReceipt"})
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	first, second := sim.Purchase("com.example.gold60", ""), sim.Purchase("com.example.gold60", "")
	receipt := sim.Receipt(first.TransactionID, second.TransactionID)
	ctx := context.Background()
	ns, err := open("shared", true).VerifyPurchase(ctx, cashier.PurchaseProof{ReceiptData: receipt})
	if err != nil || len(ns) != 2 || ns[0].ChannelTradeNo != first.TransactionID || ns[0].OutTradeNo != "" || ns[0].ProductID != "com.example.gold60" {
		t.Fatalf("receipt (production, then the sandbox on 21007): %+v %v", ns, err)
	}
	for name, c := range map[string]struct {
		ch      *apple.Apple
		receipt string
		want    string
	}{
		"a sandbox receipt where only production is accepted": {open("shared", false), receipt, cashier.EUNPROCESSABLE},
		"a wrong shared secret":                               {open("wrong", true), receipt, cashier.ECHANNEL},
		"no shared secret configured":                         {open("", true), receipt, cashier.EUNPROCESSABLE},
		"a receipt Apple never made":                          {open("shared", true), "bm90IGEgcmVjZWlwdA==", cashier.EFORBIDDEN},
	} {
		if _, err := c.ch.VerifyPurchase(ctx, cashier.PurchaseProof{ReceiptData: c.receipt}); cashier.ErrorCode(err) != c.want {
			t.Errorf("%s: %v, want %s", name, err, c.want)
		}
	}
}

func TestTicket(t *testing.T) {
	f := newFixture(t, false)
	cred, err := f.ch.Prepare(context.Background(), cashier.PrepareRequest{OutTradeNo: f.otn, Amount: 600, ProductID: "com.example.gold60"})
	if err != nil {
		t.Fatal(err)
	}
	tk := cred.Value.(apple.Ticket)
	if tk.OrderID != f.otn || tk.Price != 600 || tk.AppleProductID != "com.example.gold60" || tk.AppAccountToken != f.token ||
		tk.Sign != apple.SignTicket([]byte("secret"), f.otn, 600, "com.example.gold60") {
		t.Errorf("ticket %+v", tk)
	}
	if tk.Sign == apple.SignTicket([]byte("secret"), f.otn, 601, "com.example.gold60") {
		t.Error("the sign does not cover the price")
	}
	if _, err := f.ch.Prepare(context.Background(), cashier.PrepareRequest{OutTradeNo: f.otn, Amount: 600}); cashier.ErrorCode(err) != cashier.EINVALID {
		t.Errorf("no product: %v", err)
	}
}
