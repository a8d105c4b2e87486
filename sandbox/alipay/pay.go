package alipay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"cashier/internal/chinatime"
	"cashier/sandbox"

	"cashier"
)

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

// servePay pays (result=success) or cancels (result=fail) an order, given as
// order_string or by out_trade_no, and sends the notification to the order's
// notify_url, as Alipay does once the buyer confirms in the app.
func (a *Alipay) servePay(w http.ResponseWriter, r *http.Request) {
	paid, rf := sandbox.ReadPayForm(w, r, subInvalidParameter)
	if rf != nil {
		sandbox.WriteRefusal(w, r, rf, nil, a.errorPage)
		return
	}
	var answer *sandbox.PayAnswer
	var err error
	if orderString := r.PostFormValue("order_string"); orderString != "" {
		answer, err = a.payOrderString(r.Context(), orderString, r.PostFormValue("out_trade_no"), paid, false)
	} else {
		answer, err = a.Pay(r.Context(), r.PostFormValue("out_trade_no"), paid, false)
	}
	if err != nil {
		if !errors.As(err, &rf) {
			rf = &sandbox.Refusal{Status: http.StatusInternalServerError, Code: "sandbox-error", Reason: err.Error()}
		}
		sandbox.WriteRefusal(w, r, rf, answer, a.errorPage)
		return
	}
	t, _ := a.lookupTrade(answer.OutTradeNo)
	switch {
	case !sandbox.WantsHTML(r):
		sandbox.WriteJSON(w, http.StatusOK, answer)
	case answer.Paid && t.ReturnURL != "":
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

// Pay settles the attempt out_trade_no as its buyer would, by the credential
// cashier handed out for it (the app order string, or the web/wap URL), and
// sends the notification unless hold is set.
func (a *Alipay) Pay(ctx context.Context, outTradeNo string, paid, hold bool) (*sandbox.PayAnswer, error) {
	if outTradeNo == "" {
		return nil, &sandbox.Refusal{Status: http.StatusBadRequest, Code: subInvalidParameter, Reason: "give order_string or out_trade_no"}
	}
	cred, err := a.lookupCredential(ctx, outTradeNo)
	if err != nil {
		status := http.StatusInternalServerError
		switch cashier.ErrorCode(err) {
		case cashier.ENOTFOUND:
			status = http.StatusNotFound
		case cashier.EUNAVAILABLE:
			status = http.StatusServiceUnavailable
		}
		return nil, &sandbox.Refusal{Status: status, Code: "ACQ.TRADE_NOT_EXIST", Reason: cashier.ErrorMessage(err)}
	}
	return a.payOrderString(ctx, cred, outTradeNo, paid, hold)
}

// payOrderString settles the trade of a signed order string (checking that
// it is the one of outTradeNo, when given) and sends its notification
// unless hold is set.
func (a *Alipay) payOrderString(ctx context.Context, orderString, outTradeNo string, paid, hold bool) (*sandbox.PayAnswer, error) {
	if !a.configured() {
		return nil, &sandbox.Refusal{Status: http.StatusServiceUnavailable, Code: "sandbox-not-configured", Reason: "the Alipay sandbox has no app id or keys"}
	}
	o, err := a.parseOrder(orderString)
	if err != nil {
		return nil, &sandbox.Refusal{Status: http.StatusBadRequest, Code: refusalCode(err), Reason: "invalid order: " + err.Error()}
	}
	if outTradeNo != "" && outTradeNo != o.OutTradeNo {
		return nil, &sandbox.Refusal{Status: http.StatusBadRequest, Code: subInvalidParameter,
			Reason: fmt.Sprintf("out_trade_no %q does not match the order's %q", outTradeNo, o.OutTradeNo)}
	}
	if paid && !o.ExpiresAt.IsZero() && a.now().After(o.ExpiresAt) {
		return nil, &sandbox.Refusal{Status: http.StatusConflict, Code: "ACQ.TRADE_HAS_CLOSE", Reason: "the trade has timed out (timeout_express has passed)"}
	}
	t, err := a.settleTrade(o, paid)
	if err != nil {
		return nil, &sandbox.Refusal{Status: http.StatusConflict, Code: "ACQ.TRADE_STATUS_ERROR", Reason: err.Error()}
	}
	a.log().InfoContext(ctx, "sandbox alipay: trade settled", "out_trade_no", t.OutTradeNo, "trade_status", t.Status)
	answer := &sandbox.PayAnswer{OutTradeNo: t.OutTradeNo, ChannelTradeNo: t.TradeNo, Status: t.Status, Paid: paid}
	if t.NotifyURL == "" {
		answer.Note = "no notify_url: nothing sent"
		return answer, nil
	}
	if answer.Notification, err = a.notification(t); err != nil {
		return nil, err
	}
	if err := sandbox.Send(ctx, a.httpClient(), answer, hold); err != nil {
		a.log().WarnContext(ctx, "sandbox alipay: notification not delivered", "out_trade_no", t.OutTradeNo, "err", err)
		return answer, err
	}
	return answer, nil
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

// notification is the signed form Alipay posts to notify_url about t.
func (a *Alipay) notification(t alipayTrade) (*sandbox.Message, error) {
	p, err := a.notificationParams(t)
	if err != nil {
		return nil, err
	}
	return &sandbox.Message{URL: t.NotifyURL, Body: []byte(sandbox.EncodeForm(p)),
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}}, nil
}

// notificationParams builds the signed fields Alipay posts to notify_url.
func (a *Alipay) notificationParams(t alipayTrade) (map[string]string, error) {
	loc := chinatime.Location()
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
		"timestamp":    a.now().In(chinatime.Location()).Format(alipayTimeLayout),
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
	u.RawQuery += sandbox.EncodeForm(p)
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
