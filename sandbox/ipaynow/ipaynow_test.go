package ipaynow

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"cashier"
	"cashier/channel/ipaynow"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// An N001 that cashier does not acknowledge with success=Y is sent again on
// iPayNow's schedule, and no more once it is.
func TestResendsUntilAcknowledged(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	ch, err := ipaynow.New(ipaynow.Config{AppID: "100000000000001", AppKey: "0123456789abcdef0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var replies []string // what the endpoint answered, in order
	notify := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, err := ch.VerifyNotification(r.Context(), &cashier.InboundRequest{Body: body})
		mu.Lock()
		defer mu.Unlock()
		reply := "success=N" // the first two: the database was down
		if err == nil && len(replies) >= 2 {
			reply = "success=Y"
		}
		if err != nil {
			t.Errorf("notification %d does not verify: %v", len(replies), err)
		}
		replies = append(replies, reply)
		w.Write([]byte(reply))
	}))
	defer notify.Close()
	cred, err := ch.Prepare(context.Background(), cashier.PrepareRequest{Gateway: "wechat", OutTradeNo: "HNOW1", Amount: 600,
		Subject: "pack", Now: clk.Now(), ExpiresAt: clk.Now().Add(30 * time.Minute), NotifyURL: notify.URL})
	if err != nil {
		t.Fatal(err)
	}
	sim := &IPayNow{AppID: "100000000000001", AppKey: "0123456789abcdef0123456789abcdef", Now: clk.Now,
		Lookup: func(context.Context, string) (json.RawMessage, error) { return json.Marshal(cred.Value) }}
	ans, err := sim.Pay(context.Background(), "HNOW1", true, false)
	if err != nil || ans.NotifyReply != "success=N" {
		t.Fatalf("pay: %v %+v", err, ans)
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(replies) }
	sim.Tick(context.Background())
	if count() != 1 {
		t.Fatalf("sent again before its time: %d", count())
	}
	for i, wait := range []time.Duration{2 * time.Minute, 8 * time.Minute} {
		clk.Advance(wait)
		sim.Tick(context.Background())
		if count() != i+2 {
			t.Fatalf("after %v: %d deliveries", wait, count())
		}
	}
	clk.Advance(16 * time.Hour)
	sim.Tick(context.Background())
	if count() != 3 {
		t.Errorf("sent again after success=Y: %d deliveries", count())
	}
	if _, err := sim.Pay(context.Background(), "HNOW1", true, false); err == nil {
		t.Error("a paid order paid again")
	}
}
