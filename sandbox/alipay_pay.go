package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"cashier"
)

// maxForm bounds the forms the simulator reads.
const maxForm = 1 << 20

// servePayPage is what a browser sees when it opens a web/wap pay URL.
func (a *Alipay) servePayPage(w http.ResponseWriter, r *http.Request) {
	if !a.configured() {
		a.errorPage(w, r, http.StatusServiceUnavailable, "sandbox-not-configured", "The Alipay sandbox has no app id or keys.")
		return
	}
	o, err := a.parseOrder(r.URL.RawQuery)
	if err != nil {
		a.log().InfoContext(r.Context(), "sandbox alipay: pay page refused", "err", err)
		a.errorPage(w, r, http.StatusBadRequest, refusalCode(err), "Invalid request: "+err.Error()+".")
		return
	}
	if o.Method == "alipay.trade.app.pay" {
		a.errorPage(w, r, http.StatusBadRequest, subInvalidMethod,
			"alipay.trade.app.pay is paid in the Alipay app, not in a browser: POST its order string to /sandbox/alipay/pay.")
		return
	}
	if !o.ExpiresAt.IsZero() && a.now().After(o.ExpiresAt) {
		a.errorPage(w, r, http.StatusBadRequest, "ACQ.TRADE_HAS_CLOSE", "This trade has timed out (timeout_express has passed).")
		return
	}
	t, err := a.openTrade(o)
	if err != nil {
		a.errorPage(w, r, http.StatusConflict, "ACQ.CONTEXT_INCONSISTENT", err.Error())
		return
	}
	if t.Status != statusWaitBuyerPay {
		a.errorPage(w, r, http.StatusConflict, "ACQ.TRADE_STATUS_ERROR", fmt.Sprintf("Trade %s is %s: there is nothing to pay.", t.OutTradeNo, t.Status))
		return
	}
	a.renderPage(w, r, http.StatusOK, "pay", payPageData{
		OutTradeNo:  t.OutTradeNo,
		TotalAmount: t.TotalAmount,
		Subject:     t.Subject,
		SellerID:    a.SellerID(),
		OrderString: o.Raw,
		Choices: []payChoice{
			{Result: "success", Label: "Pay", Class: "pay"},
			{Result: "fail", Label: "Cancel", Class: "cancel"},
		},
	})
}

// payAnswer is the JSON answer of POST /sandbox/alipay/pay.
type payAnswer struct {
	OutTradeNo   string `json:"out_trade_no"`
	TradeNo      string `json:"trade_no"`
	TradeStatus  string `json:"trade_status"`
	NotifyStatus int    `json:"notify_status"` // 0: no notify_url, nothing sent
	NotifyReply  string `json:"notify_reply"`
	Error        string `json:"error,omitempty"`
}

// servePay pays (result=success) or cancels (result=fail) an order, given as
// order_string or by out_trade_no, and sends the notification to the order's
// notify_url, as Alipay does once the buyer confirms in the app.
func (a *Alipay) servePay(w http.ResponseWriter, r *http.Request) {
	browser := wantsHTML(r)
	refuse := func(status int, code, reason string) {
		if browser {
			a.errorPage(w, r, status, code, reason)
			return
		}
		writeJSON(w, status, map[string]string{"code": code, "error": reason})
	}
	if !a.configured() {
		refuse(http.StatusServiceUnavailable, "sandbox-not-configured", "the Alipay sandbox has no app id or keys")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		refuse(http.StatusBadRequest, subInvalidParameter, "the form cannot be read: "+err.Error())
		return
	}
	result := r.PostFormValue("result")
	if result == "" {
		result = "success"
	}
	if result != "success" && result != "fail" {
		refuse(http.StatusBadRequest, subInvalidParameter, fmt.Sprintf("result %q must be success or fail", result))
		return
	}
	orderString, outTradeNo := r.PostFormValue("order_string"), r.PostFormValue("out_trade_no")
	if orderString == "" {
		if outTradeNo == "" {
			refuse(http.StatusBadRequest, subInvalidParameter, "give order_string or out_trade_no")
			return
		}
		cred, err := a.lookupCredential(r.Context(), outTradeNo)
		if err != nil {
			status := http.StatusInternalServerError
			switch cashier.ErrorCode(err) {
			case cashier.ENOTFOUND:
				status = http.StatusNotFound
			case cashier.EUNAVAILABLE:
				status = http.StatusServiceUnavailable
			}
			refuse(status, "ACQ.TRADE_NOT_EXIST", cashier.ErrorMessage(err))
			return
		}
		orderString = cred
	}
	o, err := a.parseOrder(orderString)
	if err != nil {
		refuse(http.StatusBadRequest, refusalCode(err), "invalid order: "+err.Error())
		return
	}
	if outTradeNo != "" && outTradeNo != o.OutTradeNo {
		refuse(http.StatusBadRequest, subInvalidParameter, fmt.Sprintf("out_trade_no %q does not match the order's %q", outTradeNo, o.OutTradeNo))
		return
	}
	paid := result == "success"
	if paid && !o.ExpiresAt.IsZero() && a.now().After(o.ExpiresAt) {
		refuse(http.StatusConflict, "ACQ.TRADE_HAS_CLOSE", "the trade has timed out (timeout_express has passed)")
		return
	}
	t, err := a.settleTrade(o, paid)
	if err != nil {
		refuse(http.StatusConflict, "ACQ.TRADE_STATUS_ERROR", err.Error())
		return
	}
	a.log().InfoContext(r.Context(), "sandbox alipay: trade settled", "out_trade_no", t.OutTradeNo, "trade_status", t.Status)

	answer := payAnswer{OutTradeNo: t.OutTradeNo, TradeNo: t.TradeNo, TradeStatus: t.Status}
	if t.NotifyURL != "" {
		answer.NotifyStatus, answer.NotifyReply, err = a.notify(r.Context(), t)
		if err != nil {
			a.log().WarnContext(r.Context(), "sandbox alipay: notification not delivered", "out_trade_no", t.OutTradeNo, "err", err)
			answer.Error = "notification not delivered: " + err.Error()
			if browser {
				a.errorPage(w, r, http.StatusBadGateway, "notify-failed", fmt.Sprintf("Trade %s is %s, but %s.", t.OutTradeNo, t.Status, answer.Error))
				return
			}
			writeJSON(w, http.StatusBadGateway, answer)
			return
		}
	}
	switch {
	case !browser:
		writeJSON(w, http.StatusOK, answer)
	case paid && t.ReturnURL != "":
		target, err := a.returnTarget(t)
		if err != nil {
			a.errorPage(w, r, http.StatusInternalServerError, "return-failed", err.Error())
			return
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	default:
		a.renderPage(w, r, http.StatusOK, "result", resultPageData{
			OutTradeNo: t.OutTradeNo, TradeNo: t.TradeNo, TradeStatus: t.Status,
			NotifyStatus: answer.NotifyStatus, NotifyReply: answer.NotifyReply, ReturnURL: t.ReturnURL,
		})
	}
}

// lookupCredential asks cashier for the credential of out_trade_no.
func (a *Alipay) lookupCredential(ctx context.Context, outTradeNo string) (string, error) {
	if a.Lookup == nil {
		return "", cashier.Errorf(cashier.EUNAVAILABLE, "this sandbox cannot look orders up by out_trade_no: send order_string")
	}
	cred, err := a.Lookup(ctx, outTradeNo)
	if err != nil {
		return "", fmt.Errorf("look up %s: %w", outTradeNo, err)
	}
	return cred, nil
}

// notify sends the trade's asynchronous notification and returns cashier's
// answer. err is set only when nothing came back.
func (a *Alipay) notify(ctx context.Context, t alipayTrade) (status int, reply string, err error) {
	params, err := a.notification(t)
	if err != nil {
		return 0, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.NotifyURL, strings.NewReader(encodeForm(params)))
	if err != nil {
		return 0, "", fmt.Errorf("build notification: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	resp, err := a.httpClient().Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return 0, "", fmt.Errorf("read notification reply: %w", err)
	}
	return resp.StatusCode, string(body), nil
}

// notification builds the signed form Alipay posts to notify_url.
func (a *Alipay) notification(t alipayTrade) (map[string]string, error) {
	loc := beijing()
	p := map[string]string{
		"notify_time":  a.now().In(loc).Format(alipayTimeLayout),
		"notify_type":  "trade_status_sync",
		"notify_id":    newNotifyID(),
		"app_id":       a.AppID,
		"auth_app_id":  a.AppID,
		"charset":      "utf-8",
		"version":      "1.0",
		"trade_no":     t.TradeNo,
		"out_trade_no": t.OutTradeNo,
		"buyer_id":     a.buyerID(),
		"seller_id":    a.SellerID(),
		"trade_status": t.Status,
		"total_amount": t.TotalAmount,
		"subject":      t.Subject,
		"gmt_create":   t.Created.In(loc).Format(alipayTimeLayout),
	}
	switch t.Status {
	case statusSuccess:
		p["receipt_amount"] = t.TotalAmount
		p["buyer_pay_amount"] = t.TotalAmount
		p["invoice_amount"] = t.TotalAmount
		p["point_amount"] = "0.00"
		p["gmt_payment"] = t.Paid.In(loc).Format(alipayTimeLayout)
	case statusClosed:
		p["gmt_close"] = t.Closed.In(loc).Format(alipayTimeLayout)
	}
	if err := a.signPlatform(p); err != nil {
		return nil, err
	}
	return p, nil
}

// returnTarget is return_url with the signed synchronous return parameters,
// where Alipay sends the browser after a web/wap payment.
func (a *Alipay) returnTarget(t alipayTrade) (string, error) {
	u, err := url.Parse(t.ReturnURL)
	if err != nil {
		return "", fmt.Errorf("return_url: %w", err)
	}
	p := map[string]string{
		"app_id":       a.AppID,
		"auth_app_id":  a.AppID,
		"method":       t.Method + ".return",
		"out_trade_no": t.OutTradeNo,
		"trade_no":     t.TradeNo,
		"total_amount": t.TotalAmount,
		"seller_id":    a.SellerID(),
		"timestamp":    a.now().In(beijing()).Format(alipayTimeLayout),
		"charset":      "utf-8",
		"version":      "1.0",
	}
	if err := a.signPlatform(p); err != nil {
		return "", err
	}
	// Appended rather than merged: the merchant verifies the parameters it
	// receives, so its own would have to be signed too; Alipay's advice is a
	// return_url without a query.
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += encodeForm(p)
	return u.String(), nil
}

func newNotifyID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func refusalCode(err error) string {
	var rf *refusal
	if errors.As(err, &rf) {
		return rf.subCode
	}
	return subInvalidParameter
}
