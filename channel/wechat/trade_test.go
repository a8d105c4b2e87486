package wechat

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"cashier"
)

func TestQueryAndClose(t *testing.T) {
	for _, version := range []int{2, 3} {
		t.Run(fmt.Sprint("v", version), func(t *testing.T) {
			w := newWorld(t, version, "")
			ctx := t.Context()
			otn := func(s string) string { return fmt.Sprintf("W%dQ%s", version, s) }

			// A trade WeChat Pay does not know.
			_, err := w.ch.Query(ctx, cashier.Trade{OutTradeNo: otn("NONE")})
			wantCode(t, err, cashier.ENOTFOUND)
			if err := w.ch.Close(ctx, cashier.Trade{OutTradeNo: otn("NONE")}); err != nil {
				t.Errorf("close unknown: %v", err)
			}

			// Placed, not paid.
			req := w.request("scan", otn("1"))
			if _, err := w.ch.Prepare(ctx, req); err != nil {
				t.Fatal(err)
			}
			n, err := w.ch.Query(ctx, cashier.Trade{OutTradeNo: req.OutTradeNo})
			if err != nil {
				t.Fatal(err)
			}
			if n.Status != cashier.NotifyPending || n.RawStatus != "NOTPAY" || n.OutTradeNo != req.OutTradeNo || n.Amount != req.Amount {
				t.Errorf("unpaid query %+v", n)
			}

			// Paid: the notification and the query agree.
			if status, ans := w.pay(req.OutTradeNo, "success"); status != http.StatusOK {
				t.Fatalf("pay: %d %v", status, ans)
			}
			note, err := w.LastNote()
			if err != nil {
				t.Fatalf("notification: %v", err)
			}
			n, err = w.ch.Query(ctx, cashier.Trade{OutTradeNo: req.OutTradeNo})
			if err != nil {
				t.Fatal(err)
			}
			if n.Status != cashier.NotifyPaid || n.Amount != req.Amount || n.ChannelTradeNo == "" || n.ChannelTradeNo != note.ChannelTradeNo ||
				n.PaidAt.IsZero() || time.Since(n.PaidAt).Abs() > time.Minute || !n.PaidAt.Equal(note.PaidAt) {
				t.Errorf("paid query %+v, notification %+v", n, note)
			}
			err = w.ch.Close(ctx, cashier.Trade{OutTradeNo: req.OutTradeNo})
			wantCode(t, err, cashier.ECONFLICT)

			// Closed: again and again.
			req = w.request("app", otn("2"))
			if _, err := w.ch.Prepare(ctx, req); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := w.ch.Close(ctx, cashier.Trade{OutTradeNo: req.OutTradeNo}); err != nil {
					t.Errorf("close: %v", err)
				}
			}
			n, err = w.ch.Query(ctx, cashier.Trade{OutTradeNo: req.OutTradeNo})
			if err != nil || n.Status != cashier.NotifyClosed {
				t.Errorf("closed query %+v, %v", n, err)
			}

			_, err = w.ch.Query(ctx, cashier.Trade{OutTradeNo: "../x"})
			wantCode(t, err, cashier.EINVALID)
		})
	}
}

func TestPaidNotificationsThroughSandbox(t *testing.T) {
	for _, tc := range []struct {
		version  int
		signType string
	}{{2, SignTypeMD5}, {2, SignTypeHMACSHA256}, {3, ""}} {
		t.Run(fmt.Sprint("v", tc.version, tc.signType), func(t *testing.T) {
			w := newWorld(t, tc.version, tc.signType)
			req := w.request("wap", fmt.Sprintf("W%dN%s", tc.version, tc.signType[:min(3, len(tc.signType))]))
			if _, err := w.ch.Prepare(t.Context(), req); err != nil {
				t.Fatal(err)
			}
			status, ans := w.pay(req.OutTradeNo, "success")
			if status != http.StatusOK || ans["status"] != "SUCCESS" {
				t.Fatalf("pay: %d %v", status, ans)
			}
			wantStatus := float64(http.StatusOK)
			if tc.version == 3 {
				wantStatus = http.StatusNoContent
			}
			if ans["notify_status"] != wantStatus {
				t.Errorf("cashier answered %v %q", ans["notify_status"], ans["notify_reply"])
			}
			n, err := w.LastNote()
			if err != nil {
				t.Fatal(err)
			}
			if n.Status != cashier.NotifyPaid || n.OutTradeNo != req.OutTradeNo || n.Amount != req.Amount || n.ChannelTradeNo != ans["channel_trade_no"] {
				t.Errorf("notification %+v, pay answer %v", n, ans)
			}
		})
	}
}
