package wechat

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cashier"
	"cashier/sandbox"
)

// paid places the app attempt outTradeNo at the simulator and pays it.
func (w *world) paid(outTradeNo string) cashier.PrepareRequest {
	w.t.Helper()
	req := w.request("app", outTradeNo)
	if _, err := w.ch.Prepare(w.t.Context(), req); err != nil {
		w.t.Fatal(err)
	}
	if status, ans := w.pay(outTradeNo, "success"); status != http.StatusOK {
		w.t.Fatalf("pay %s: %d %v", outTradeNo, status, ans)
	}
	return req
}

// refundOf is a refund of amount of the attempt req, notified to the world.
func (w *world) refundOf(req cashier.PrepareRequest, outRefundNo string, amount int64) cashier.RefundRequest {
	return cashier.RefundRequest{
		OutTradeNo: req.OutTradeNo, OutRefundNo: outRefundNo, Amount: amount, Total: req.Amount,
		Reason: "七天无理由退货 <x> & y", NotifyURL: w.srv.URL + "/notify/wechat",
	}
}

// settle posts the simulator's settle form.
func (w *world) settle(form url.Values) int {
	w.t.Helper()
	resp, err := w.srv.Client().PostForm(w.srv.URL+"/sandbox/wechat/refund/settle", form)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestRefundsThroughSandbox(t *testing.T) {
	for _, tc := range []struct {
		version  int
		signType string
	}{{2, SignTypeMD5}, {2, SignTypeHMACSHA256}, {3, ""}} {
		t.Run(fmt.Sprint("v", tc.version, tc.signType), func(t *testing.T) {
			w := newWorld(t, tc.version, tc.signType)
			ctx := t.Context()
			otn := func(s string) string {
				return fmt.Sprintf("W%dR%s%s", tc.version, tc.signType[:min(1, len(tc.signType))], s)
			}
			notified := http.StatusOK
			if tc.version == 3 {
				notified = http.StatusNoContent
			}

			t.Run("full", func(t *testing.T) {
				pay := w.paid(otn("FULL"))
				req := w.refundOf(pay, otn("FULL-1"), pay.Amount)
				res, err := w.ch.Refund(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if res.Status != cashier.RefundPending || res.ChannelRefundNo == "" || res.Amount != pay.Amount ||
					res.OutTradeNo != pay.OutTradeNo || res.OutRefundNo != req.OutRefundNo {
					t.Fatalf("refund %+v", res)
				}
				q, err := w.ch.QueryRefund(ctx, cashier.Trade{OutTradeNo: pay.OutTradeNo}, req.OutRefundNo)
				if err != nil || *q != *res {
					t.Fatalf("query %+v, %v; refund %+v", q, err, res)
				}
				// The trade shows the refund, and is still paid.
				n, err := w.ch.Query(ctx, cashier.Trade{OutTradeNo: pay.OutTradeNo})
				if err != nil || n.Status != cashier.NotifyPaid || n.RawStatus != "REFUND" {
					t.Errorf("trade query %+v, %v", n, err)
				}

				before := w.NoteCount()
				settled := w.sandbox.SettleRefunds(ctx)
				if len(settled) != 1 || settled[0].OutRefundNo != req.OutRefundNo || settled[0].NotifyStatus != notified || settled[0].Error != "" {
					t.Fatalf("settled %+v", settled)
				}
				if w.NoteCount() != before+1 {
					t.Fatalf("%d notifications", w.NoteCount()-before)
				}
				note, err := w.LastNote()
				if err != nil {
					t.Fatalf("refund notification: %v", err)
				}
				want := cashier.RefundResult{OutTradeNo: pay.OutTradeNo, OutRefundNo: req.OutRefundNo, ChannelRefundNo: res.ChannelRefundNo, Status: cashier.RefundSucceeded, Amount: pay.Amount}
				if note.Refund == nil || *note.Refund != want || note.OutTradeNo != pay.OutTradeNo || note.ChannelTradeNo == "" || note.RawStatus != "SUCCESS" {
					t.Fatalf("notification %+v, refund %+v", note, note.Refund)
				}
				q, err = w.ch.QueryRefund(ctx, cashier.Trade{OutTradeNo: pay.OutTradeNo}, req.OutRefundNo)
				if err != nil || *q != want {
					t.Fatalf("query after settling %+v, %v", q, err)
				}
				// Asked again: the same refund (v2 only says it has it).
				again, err := w.ch.Refund(ctx, req)
				if err != nil || again.ChannelRefundNo != res.ChannelRefundNo {
					t.Fatalf("again %+v, %v", again, err)
				}
				if len(w.sandbox.SettleRefunds(ctx)) != 0 {
					t.Error("settled again")
				}
				_, err = w.ch.Refund(ctx, w.refundOf(pay, otn("FULL-2"), 1))
				wantCode(t, err, cashier.ECHANNEL)
			})

			t.Run("partials", func(t *testing.T) {
				pay := w.paid(otn("PART"))
				r1, err := w.ch.Refund(ctx, w.refundOf(pay, otn("PART-1"), 600))
				if err != nil {
					t.Fatal(err)
				}
				again, err := w.ch.Refund(ctx, w.refundOf(pay, otn("PART-1"), 600))
				if err != nil || *again != *r1 {
					t.Fatalf("same number twice: %+v, %v; first %+v", again, err, r1)
				}
				// 600 refunded once, so 634 are left.
				if _, err := w.ch.Refund(ctx, w.refundOf(pay, otn("PART-2"), pay.Amount-600)); err != nil {
					t.Fatal(err)
				}
				_, err = w.ch.Refund(ctx, w.refundOf(pay, otn("PART-3"), 1))
				wantChannelError(t, err, "全额退款")
				_, err = w.ch.QueryRefund(ctx, cashier.Trade{OutTradeNo: pay.OutTradeNo}, otn("PART-3"))
				wantCode(t, err, cashier.ENOTFOUND)
				_, err = w.ch.Refund(ctx, w.refundOf(pay, otn("PART-1"), 500))
				wantCode(t, err, cashier.ECHANNEL)
				if settled := w.sandbox.SettleRefunds(ctx); len(settled) != 2 {
					t.Errorf("settled %+v", settled)
				}
				for _, no := range []string{otn("PART-1"), otn("PART-2")} {
					if q, err := w.ch.QueryRefund(ctx, cashier.Trade{OutTradeNo: pay.OutTradeNo}, no); err != nil || q.Status != cashier.RefundSucceeded {
						t.Errorf("query %s: %+v, %v", no, q, err)
					}
				}
			})

			t.Run("failed", func(t *testing.T) {
				pay := w.paid(otn("FAIL"))
				for _, result := range []string{"closed", "abnormal"} {
					req := w.refundOf(pay, otn("FAIL-"+result), pay.Amount)
					if _, err := w.ch.Refund(ctx, req); err != nil {
						t.Fatalf("%s: %v", result, err)
					}
					if status := w.settle(url.Values{"out_refund_no": {req.OutRefundNo}, "result": {result}}); status != http.StatusOK {
						t.Fatalf("settle %s: %d", result, status)
					}
					note, err := w.LastNote()
					if err != nil || note.Refund == nil || note.Refund.Status != cashier.RefundFailed || note.Refund.Detail == "" {
						t.Fatalf("%s notification %+v, %v", result, note, err)
					}
					q, err := w.ch.QueryRefund(ctx, cashier.Trade{OutTradeNo: pay.OutTradeNo}, req.OutRefundNo)
					if err != nil || q.Status != cashier.RefundFailed {
						t.Errorf("%s query %+v, %v", result, q, err)
					}
					// Settled once.
					if status := w.settle(url.Values{"out_refund_no": {req.OutRefundNo}}); status != http.StatusConflict {
						t.Errorf("settle again: %d", status)
					}
				}
			})

			t.Run("not refundable", func(t *testing.T) {
				req := w.request("scan", otn("UNPAID"))
				if _, err := w.ch.Prepare(ctx, req); err != nil {
					t.Fatal(err)
				}
				_, err := w.ch.Refund(ctx, w.refundOf(req, otn("UNPAID-1"), 1))
				wantCode(t, err, cashier.ECHANNEL)
				_, err = w.ch.Refund(ctx, w.refundOf(w.request("app", otn("NONE")), otn("NONE-1"), 1))
				wantCode(t, err, cashier.ECHANNEL)
				_, err = w.ch.QueryRefund(ctx, cashier.Trade{OutTradeNo: otn("NONE")}, otn("NONE-1"))
				wantCode(t, err, cashier.ENOTFOUND)
			})

			t.Run("invalid", func(t *testing.T) {
				good := w.refundOf(w.request("app", otn("X")), otn("X-1"), 1)
				for _, change := range []func(*cashier.RefundRequest){
					func(r *cashier.RefundRequest) { r.Amount = 0 },
					func(r *cashier.RefundRequest) { r.Total = 0 },
					func(r *cashier.RefundRequest) { r.Amount = r.Total + 1 },
					func(r *cashier.RefundRequest) { r.OutRefundNo = "" },
					func(r *cashier.RefundRequest) { r.OutRefundNo = "../x" },
					func(r *cashier.RefundRequest) { r.OutRefundNo = strings.Repeat("x", 65) },
					func(r *cashier.RefundRequest) { r.OutTradeNo = "a b" },
				} {
					req := good
					change(&req)
					_, err := w.ch.Refund(ctx, req)
					wantCode(t, err, cashier.EINVALID)
				}
				_, err := w.ch.QueryRefund(ctx, cashier.Trade{OutTradeNo: good.OutTradeNo}, "x/y")
				wantCode(t, err, cashier.EINVALID)
			})
		})
	}
}

func TestRefundFaults(t *testing.T) {
	for _, version := range []int{2, 3} {
		t.Run(fmt.Sprint("v", version), func(t *testing.T) {
			t.Run("closed port", func(t *testing.T) {
				w := newTestWeChat(t, testConfig(version, "http://"+closedPort(t)+"/sandbox/wechat"))
				_, err := w.Refund(t.Context(), cashier.RefundRequest{OutTradeNo: "WF", OutRefundNo: "WF-1", Amount: 1, Total: 1})
				wantCode(t, err, cashier.EUNAVAILABLE)
				_, err = w.QueryRefund(t.Context(), cashier.Trade{OutTradeNo: "WF"}, "WF-1")
				wantCode(t, err, cashier.EUNAVAILABLE)
			})

			// v2 answers a refusal with result_code FAIL (HTTPStatus would
			// make a bare HTTP error), v3 with its HTTP status.
			systemError := sandbox.Fault{ErrCode: "SYSTEMERROR", ErrCodeDes: "系统超时"}
			notEnough := sandbox.Fault{ErrCode: "NOTENOUGH", ErrCodeDes: "基本账户余额不足"}
			frequency := sandbox.Fault{ErrCode: "FREQUENCY_LIMITED", ErrCodeDes: "频率限制"}
			if version == 3 {
				systemError = sandbox.Fault{ErrCode: "SYSTEM_ERROR", ErrCodeDes: "系统错误", HTTPStatus: http.StatusInternalServerError}
				notEnough.ErrCode = "NOT_ENOUGH"
				frequency.HTTPStatus = http.StatusTooManyRequests
			}
			for _, tc := range []struct {
				name  string
				fault sandbox.Fault
				code  string
			}{
				{"500", sandbox.Fault{HTTPStatus: http.StatusInternalServerError}, cashier.EUNAVAILABLE},
				{"502", sandbox.Fault{HTTPStatus: http.StatusBadGateway}, cashier.EUNAVAILABLE},
				{"system error", systemError, cashier.EUNAVAILABLE},
				{"frequency", frequency, cashier.EUNAVAILABLE},
				{"balance", notEnough, cashier.ECHANNEL},
				{"overdue", sandbox.Fault{ErrCode: "TRADE_OVERDUE", ErrCodeDes: "订单已经超过退款期限"}, cashier.ECONFLICT},
				{"400", sandbox.Fault{HTTPStatus: http.StatusBadRequest}, cashier.ECHANNEL},
			} {
				if version == 3 && tc.name == "overdue" {
					continue // a v2 code
				}
				t.Run(tc.name, func(t *testing.T) {
					w := newWorld(t, version, "")
					pay := w.paid(fmt.Sprintf("W%dRF", version))
					req := w.refundOf(pay, fmt.Sprintf("W%dRF-1", version), 100)
					w.sandbox.Faults().Inject(sandbox.OpRefund, 1, tc.fault)
					_, err := w.ch.Refund(t.Context(), req)
					wantCode(t, err, tc.code)
					if tc.fault.ErrCodeDes != "" && !strings.Contains(cashier.ErrorMessage(err), tc.fault.ErrCodeDes) {
						t.Errorf("message %q lacks %q", cashier.ErrorMessage(err), tc.fault.ErrCodeDes)
					}
					// Asked again: one refund.
					if _, err := w.ch.Refund(t.Context(), req); err != nil {
						t.Fatal(err)
					}
					if _, err := w.ch.Refund(t.Context(), req); err != nil {
						t.Fatal(err)
					}
					if settled := w.sandbox.SettleRefunds(t.Context()); len(settled) != 1 {
						t.Errorf("settled %+v", settled)
					}
				})
			}

			t.Run("slow", func(t *testing.T) {
				w := newWorld(t, version, "", func(c *Config) {
					hc := *c.HTTPClient
					hc.Timeout = 100 * time.Millisecond
					c.HTTPClient = &hc
				})
				pay := w.paid(fmt.Sprintf("W%dRS", version))
				w.sandbox.Faults().Inject(sandbox.OpRefund, 1, sandbox.Fault{Delay: 5 * time.Second})
				_, err := w.ch.Refund(t.Context(), w.refundOf(pay, "RS-1", 1))
				wantCode(t, err, cashier.EUNAVAILABLE)
			})

			t.Run("query", func(t *testing.T) {
				w := newWorld(t, version, "")
				w.sandbox.Faults().Inject(sandbox.OpRefundQuery, 1, sandbox.Fault{HTTPStatus: http.StatusServiceUnavailable})
				_, err := w.ch.QueryRefund(t.Context(), cashier.Trade{OutTradeNo: "WRQ"}, "WRQ-1")
				wantCode(t, err, cashier.EUNAVAILABLE)
				_, err = w.ch.QueryRefund(t.Context(), cashier.Trade{OutTradeNo: "WRQ"}, "WRQ-1")
				wantCode(t, err, cashier.ENOTFOUND)
			})
		})
	}
}
