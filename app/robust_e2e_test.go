package app_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"cashier/app"
	"cashier/sqlstore/storetest"
)

// A job claimed by a process that died (kill -9) stays "running" in River's
// table. It is run again once job_rescue_after (5 minutes by default) has
// passed, not after River's default hour. The crash is written into the
// table as it leaves it: the job running, attempted 6 minutes ago, by a
// client that no longer exists.
func TestStuckJobIsRescued(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		id, _ := h.mustBuy("app", nil)
		// The order's expiry passes and its job is scheduled, as the
		// sweep of the process that then died did.
		h.clock.Advance(31 * time.Minute)
		if _, err := h.app.Jobs.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
		ago := "datetime('now', '-6 minutes', 'subsec')"
		if strings.HasPrefix(dsn, "postgres") {
			ago = "now() - interval '6 minutes'"
		}
		res, err := h.app.Store.SQL().Exec("UPDATE river_job SET state = 'running', attempt = 1, attempted_at = " + ago +
			" WHERE kind = 'expire_order'")
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			t.Fatalf("%d expiry jobs", n)
		}
		// Past the order's expiry, and past the retry River schedules by
		// the real clock.
		h.clock.Advance(time.Since(h.clock.Now()) + time.Hour)
		h.startJobs()
		h.eventually("the rescued expiry job closes the order", 30*time.Second, func() bool {
			h.clock.Advance(time.Second) // to the retry River gives the rescued job
			return h.order(id).Status == "closed"
		})
	})
}

// Notifications that fail verification are evidence, but bounded: their
// bodies are cut to a few KiB, a flood from one address stops being
// recorded (429) while a genuine message from that address still gets
// through, each rejection is counted by reason, and they are purged after
// the retention period while genuine ones stay.
func TestRejectedNotificationsAreBounded(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarnessWith(t, dsn, func(c *app.Config) { c.NotifyRejectsPerMinute = 5 }, app.Options{})
		id, _ := h.mustBuy("app", nil)
		otn := h.lastOutTradeNo(id)
		pad := map[string]string{"body": strings.Repeat("x", 20<<10)}
		forged := signAlipay(t, h.otherKey(), h.alipayNotification(otn, "6.00", pad)).Encode()
		for i := 0; i < 8; i++ {
			status, text := h.notify(forged)
			if i < 5 && (status != 200 || text != "fail") {
				t.Fatalf("forged message %d: %d %q, want Alipay's fail", i, status, text)
			}
			if i >= 5 && status != 429 {
				t.Fatalf("forged message %d beyond the limit: %d %q", i, status, text)
			}
		}
		var kept, size, unverified int
		err := h.app.Store.SQL().QueryRow(`SELECT COUNT(*), MAX(length(body)), MAX(body_size) FROM inbound_messages WHERE NOT verified`).
			Scan(&unverified, &kept, &size)
		if err != nil {
			t.Fatal(err)
		}
		if unverified != 5 || kept != 4096 || size != len(forged) {
			t.Errorf("%d unverified messages recorded, body kept %d of %d bytes; want 5, 4096 of %d", unverified, kept, size, len(forged))
		}

		genuine := signAlipay(t, h.platformKey(), h.alipayNotification(otn, "6.00", pad)).Encode()
		if status, text := h.notify(genuine); status != 200 || text != "success" {
			t.Fatalf("genuine message from the same address: %d %q", status, text)
		}
		if o := h.order(id); o.Status != "paid" {
			t.Fatalf("order %s after the genuine message", o.Status)
		}
		var whole int
		h.app.Store.SQL().QueryRow(`SELECT length(body) FROM inbound_messages WHERE outcome = 'applied'`).Scan(&whole)
		if whole != len(genuine) {
			t.Errorf("genuine message kept %d of %d bytes", whole, len(genuine))
		}

		_, metrics := h.getText("/metrics")
		for _, want := range []string{
			`cashier_notifications_rejected_total{channel="alipay",reason="signature"} 5`,
			`cashier_notifications_rejected_total{channel="alipay",reason="rate_limited"} 3`,
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}

		h.clock.Advance(29 * 24 * time.Hour)
		if err := h.app.Checkout.PurgeRejectedMessages(context.Background(), 30*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		if n := h.count("inbound_messages"); n != 6 {
			t.Errorf("%d messages after a purge inside the retention, want 6", n)
		}
		h.clock.Advance(2 * 24 * time.Hour)
		if err := h.app.Checkout.PurgeRejectedMessages(context.Background(), 30*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		if out := h.inboundOutcomes(); len(out) != 1 || out[0] != "applied" {
			t.Errorf("after the retention: %v, want the genuine message alone", out)
		}
	})
}

// A correctly signed WeChat v2 notice that the payment failed carries no
// total_fee: the attempt is marked failed, and the order can be paid again.
func TestWeChatFailureNotice(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := wechatVersionHarness(t, dsn, 2, app.Options{})
		r := h.buyWechat("app")
		otn := h.lastOutTradeNo(r.OrderID)
		body := wechatV2Notification(h.sandboxSecret("wechat_api_key.txt"), otn, 600, map[string]string{
			"result_code": "FAIL", "err_code": "NOTENOUGH", "err_code_des": "余额不足",
			"total_fee": "", "cash_fee": "", "transaction_id": "", "time_end": "", "bank_type": "",
		})
		if status, text := h.notifyWechat(body, nil); status != 200 || text != wechatAck {
			t.Fatalf("failure notice: %d %q", status, text)
		}
		o := h.order(r.OrderID)
		if o.Status != "pending" || o.Payments[0].Status != "failed" {
			t.Fatalf("order %s, attempt %s; want pending, failed", o.Status, o.Payments[0].Status)
		}
		if out := h.inboundOutcomes(); len(out) != 1 || out[0] != "applied" {
			t.Errorf("outcomes %v", out)
		}
		again := h.post("/api/v1/orders/"+r.OrderID+"/pay", h.token, url.Values{"channel": {"wechat"}, "gateway": {"app"}})
		if again.Status != 200 {
			t.Errorf("pay again: %d %s", again.Status, again.Message)
		}
	})
}
