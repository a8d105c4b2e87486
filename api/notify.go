package api

import (
	"io"
	"log/slog"
	"net/http"
	"strings"

	"cashier"
	"cashier/checkout"
	"cashier/web"
)

// maxNotifyBytes bounds a channel notification; real ones are a few KiB.
const maxNotifyBytes = 64 << 10

// recordedHeaders are kept with each inbound message, with those the channel
// names (cashier.HeaderRecorder); others (cookies, credentials of proxies)
// are not evidence and may be secret.
func recordedHeaders(ch cashier.Channel) []string {
	common := []string{"Content-Type", "Content-Length", "User-Agent", "X-Forwarded-For", "X-Real-Ip"}
	if hr, ok := ch.(cashier.HeaderRecorder); ok {
		return append(common, hr.RecordedHeaders()...)
	}
	return common
}

// /api/v1/order/notify/{channel}[/{extra}]: a channel's asynchronous
// notification. The reply is exactly what the channel expects; a flood of
// unverifiable messages from one address is answered 429 and not recorded.
func handleNotify(co *checkout.Service, limiter *addressLimiter, m Metrics, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		channel := r.PathValue("channel")
		ch, err := co.Channel(channel)
		if err != nil {
			writeError(w, r, log, cashier.Errorf(cashier.ENOTFOUND, "no notify endpoint for channel %q", truncate(channel, 32)))
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxNotifyBytes+1))
		if err != nil {
			writeError(w, r, log, bodyError(err))
			return
		}
		if len(body) > maxNotifyBytes {
			m.ObserveRejected(channel, "too_large")
			writeError(w, r, log, cashier.Errorf(cashier.ETOOLARGE, "notification larger than %d bytes", maxNotifyBytes))
			return
		}
		headers := map[string][]string{}
		for _, h := range recordedHeaders(ch) {
			if vals := r.Header.Values(h); len(vals) > 0 {
				headers[h] = vals
			}
		}
		ip := clientIP(r)
		in := checkout.Inbound{Channel: channel, RemoteAddr: r.RemoteAddr,
			Request: &cashier.InboundRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Headers: headers, Body: body},
			Admit: func() bool {
				ok, first := limiter.allow(ip, co.Now())
				if first {
					log.WarnContext(r.Context(), "too many unverifiable notifications from one address: no longer recording them for now",
						"channel", channel, "remote_addr", ip, "per_minute", limiter.perMinute)
				}
				return ok
			}}
		reply, rc, err := co.Receive(r.Context(), in)
		if rc != nil && rc.Reason != "" {
			m.ObserveRejected(channel, rc.Reason)
		}
		if rc != nil && rc.Reason == checkout.RejectRateLimited {
			writeError(w, r, log, cashier.Errorf(cashier.ETOOMANY, "too many unverifiable notifications from this address"))
			return
		}
		if err != nil && reply.Status == 0 {
			writeError(w, r, log, err)
			return
		}
		if reply.ContentType != "" {
			w.Header().Set("Content-Type", reply.ContentType)
		}
		w.WriteHeader(reply.Status)
		w.Write(reply.Body)
	})
}

// GET /api/v1/order/return/{channel}: verify the browser's return parameters
// and send it on to the order's result page. Only channels that send the
// browser back with signed parameters (cashier.ReturnVerifier) have one.
func handleReturn(co *checkout.Service, log *slog.Logger, resultURL string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("channel")
		ch, err := co.Channel(name)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		rv, ok := ch.(cashier.ReturnVerifier)
		if !ok {
			writeError(w, r, log, cashier.Errorf(cashier.ENOTFOUND, "channel %s does not send the browser back here", name))
			return
		}
		if !r.URL.Query().Has("sign") {
			// The buyer left the channel's page without paying: nothing
			// to verify.
			renderResult(w, http.StatusOK, resultPage{Title: "Payment not completed", Text: "You left the payment page without paying. Your order is waiting: you can pay it from the app or the checkout page."})
			return
		}
		outTradeNo, err := rv.VerifyReturn(r.URL.RawQuery)
		if err != nil {
			log.WarnContext(r.Context(), "browser return rejected", "channel", name, "remote_addr", r.RemoteAddr, "reason", cashier.ErrorMessage(err))
			renderResult(w, http.StatusBadRequest, resultPage{Title: "Could not verify the payment", Text: "The return from the payment page could not be verified. Your order's status is shown in the app."})
			return
		}
		p, err := co.PaymentByOutTradeNo(r.Context(), outTradeNo)
		if err != nil {
			if cashier.ErrorCode(err) != cashier.ENOTFOUND {
				log.ErrorContext(r.Context(), "browser return: load payment", "channel", name, "err", err)
			}
			renderResult(w, http.StatusNotFound, resultPage{Title: "Payment not found", Text: "This payment is not known here. Your order's status is shown in the app."})
			return
		}
		target := "/pay/result/" + p.OutTradeNo
		if resultURL != "" {
			target = strings.ReplaceAll(resultURL, "{order_id}", idString(p.OrderID))
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	})
}

// GET /pay/result/{id}: where a browser lands after paying; {id} is the
// attempt's out_trade_no, so the page tells nothing to someone guessing ids.
func handleResultPage(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := co.PaymentByOutTradeNo(r.Context(), r.PathValue("id"))
		if err != nil {
			renderResult(w, http.StatusNotFound, resultPage{Title: "Payment not found", Text: "No payment has this number."})
			return
		}
		page := resultPage{Title: "Waiting for the payment", Text: "The payment has not been confirmed yet. This page refreshes itself.", Refresh: true}
		switch p.Status {
		case cashier.PaymentPaid:
			page = resultPage{Title: "Payment received", Text: "Order " + idString(p.OrderID) + " is paid: " + cashier.FormatYuan(p.Amount) + " yuan."}
		case cashier.PaymentClosed, cashier.PaymentFailed:
			page = resultPage{Title: "Payment not completed", Text: "This payment attempt was closed. You can pay the order again from the app."}
		case cashier.PaymentNeedsRefund, cashier.PaymentRefunded:
			page = resultPage{Title: "Payment will be refunded", Text: "The order was already paid or closed, so this payment is refunded."}
		}
		renderResult(w, http.StatusOK, page)
	})
}

type resultPage struct {
	Lang, Title, Text string
	Refresh           bool
}

// renderResult writes a result page, in the checkout page's style.
func renderResult(w http.ResponseWriter, status int, page resultPage) {
	if page.Lang == "" {
		page.Lang = "en"
	}
	web.Render(w, status, "result", page)
}
