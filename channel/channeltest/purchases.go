package channeltest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"cashier"
)

// App store channels (cashier.PurchaseVerifier): the buyer's app sends
// cashier what the store gave it. Their simulators answer POST
// /sandbox/{channel}/pay (notify=no: as when the store's notification is
// lost) with what the store gives the app — signed_transaction,
// receipt_data, transaction_id — and POST /sandbox/{channel}/notify sends
// the store's notification of type about a transaction.

// storeGave is what the store gave the app for one purchase.
type storeGave struct {
	SignedTransaction string `json:"signed_transaction"`
	ReceiptData       string `json:"receipt_data"`
	TransactionID     string `json:"transaction_id"`
}

// storePay buys an attempt's product (or, with product set, another) at
// the simulator without its notification.
func (c *cashierUnderTest) storePay(t *testing.T, otn string, product ...string) storeGave {
	t.Helper()
	form := url.Values{"order_id": {otn}, "notify": {"no"}, "product_id": product}
	req, _ := http.NewRequest("POST", c.url+"/sandbox/"+c.name+"/pay", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var g storeGave
	if err := json.NewDecoder(resp.Body).Decode(&g); err != nil || resp.StatusCode != 200 || g.SignedTransaction == "" {
		t.Fatalf("buy %s at the simulator: %d %v %+v", otn, resp.StatusCode, err, g)
	}
	return g
}

// verify sends cashier what the store gave the app for an order.
func (c *cashierUnderTest) verify(t *testing.T, orderID string, fields url.Values) envelope {
	t.Helper()
	fields.Set("order_id", orderID)
	return c.call(t, "POST", "/api/v1/order/"+c.name+"/verify", c.token, "application/x-www-form-urlencoded", fields.Encode())
}

// storePurchases: a signed transaction pays its order once, and answers
// the same when sent again; it cannot pay a second order; an old client's
// receipt pays too; twenty verifications at once pay once; what does not
// verify is refused, recorded and changes nothing; the store's refund
// refunds the order.
func (c *cashierUnderTest) storePurchases(t *testing.T) {
	if _, ok := c.ch.(cashier.PurchaseVerifier); !ok {
		t.Skipf("%s takes no purchases from apps", c.name)
	}
	id, otn := c.mustBuy(t, "")
	gave := c.storePay(t, otn)
	jws := url.Values{"signed_transaction": {gave.SignedTransaction}}
	for i := range 2 {
		r := c.verify(t, id, jws)
		var o order
		if r.Status != 200 || json.Unmarshal(r.Data, &o) != nil || o.Status != "paid" || o.Payments[0].ChannelTradeNo != gave.TransactionID {
			t.Fatalf("verification %d: %d %s %s", i+1, r.Status, r.Message, r.Data)
		}
	}
	// Newest first.
	if ms := c.outcomes(t, otn); len(ms) != 2 || ms[1].Outcome != cashier.InboundApplied || ms[0].Outcome != cashier.InboundDuplicate {
		t.Errorf("recorded %d messages, want one applied then one duplicate", len(ms))
	}

	other, _ := c.mustBuy(t, "")
	rejected := c.count(t, "SELECT COUNT(*) FROM inbound_messages WHERE outcome = 'rejected'")
	if r := c.verify(t, other, jws); r.Status != http.StatusConflict {
		t.Errorf("the transaction of another order: %d %s, want 409", r.Status, r.Message)
	}
	if n := c.count(t, "SELECT COUNT(*) FROM inbound_messages WHERE outcome = 'rejected'"); n != rejected+1 {
		t.Errorf("%d rejected messages recorded, want 1", n-rejected)
	}
	for _, bad := range []url.Values{
		{},
		{"signed_transaction": {"not.a.jws"}},
		{"signed_transaction": {gave.SignedTransaction[:len(gave.SignedTransaction)-4] + "AAAA"}},
		{"signed_transaction": {gave.SignedTransaction}, "receipt_data": {gave.ReceiptData}},
		{"receipt_data": {"bm90IGEgcmVjZWlwdA=="}},
	} {
		if r := c.verify(t, other, bad); r.Status < 400 || r.Status >= 500 {
			t.Errorf("verify %v: %d %s, want 4xx", bad, r.Status, r.Message)
		}
	}
	wrong, wrongOTN := c.mustBuy(t, "")
	if r := c.verify(t, wrong, url.Values{"signed_transaction": {c.storePay(t, wrongOTN, "com.example.another.product").SignedTransaction}}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("a purchase of another product: %d %s, want 422", r.Status, r.Message)
	}
	for _, o := range []string{other, wrong} {
		if o := c.order(t, o); o.Status != "pending" {
			t.Fatalf("refused purchases changed an order to %s", o.Status)
		}
	}

	// An old client: the receipt, checked with the store.
	legacy, legacyOTN := c.mustBuy(t, "")
	receipt := c.storePay(t, legacyOTN).ReceiptData
	if r := c.verify(t, legacy, url.Values{"receipt_data": {receipt}}); r.Status != 200 || c.order(t, legacy).Status != "paid" {
		t.Errorf("receipt: %d %s", r.Status, r.Message)
	}

	// Twenty at once.
	many, manyOTN := c.mustBuy(t, "")
	fields := url.Values{"signed_transaction": {c.storePay(t, manyOTN).SignedTransaction}, "order_id": {many}}
	statuses := make([]int, 20)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", c.url+"/api/v1/order/"+c.name+"/verify", strings.NewReader(fields.Encode()))
			req.Header.Set("Authorization", "Bearer "+c.token)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				statuses[i] = resp.StatusCode
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 200 {
			t.Errorf("verification %d of 20: %d", i, s)
		}
	}
	if n := c.count(t, "SELECT COUNT(*) FROM events WHERE type = 'order.paid' AND order_id = ?", many); n != 1 {
		t.Errorf("%d order.paid events after 20 verifications", n)
	}

	// The store refunds the first purchase.
	resp, err := http.PostForm(c.url+"/sandbox/"+c.name+"/notify", url.Values{"transaction_id": {gave.TransactionID}, "type": {"REFUND"}})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the store's refund notification: %v %v", err, resp)
	}
	resp.Body.Close()
	if o := c.order(t, id); o.Status != "refunded" || o.Refunded != o.PaidAmount {
		t.Errorf("after the store's refund the order is %s, %d of %d refunded", o.Status, o.Refunded, o.PaidAmount)
	}
	if n := c.count(t, "SELECT COUNT(*) FROM events WHERE type = 'refund.succeeded' AND order_id = ?", id); n != 1 {
		t.Errorf("%d refund.succeeded events", n)
	}
}
