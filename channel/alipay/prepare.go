package alipay

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-pay/gopay"

	"cashier"
	"cashier/channel"
	"cashier/channel/internal/gopaykit"
)

// Alipay's limits on biz_content fields.
const (
	maxSubjectRunes = 256
	maxOutTradeNo   = 64
	maxTimeout      = 15 * 24 * time.Hour
)

// gopayPayURL is where gopay's page and wap pay URLs point: Alipay's
// production gateway, which gopay does not let one change. Prepare puts the
// configured gateway in its place.
const gopayPayURL = "https://openapi.alipay.com/gateway.do?"

// Prepare builds the credential for one attempt: the signed order string for
// the app gateway, the signed gateway.do URL for web and wap. No call to
// Alipay is made: Alipay creates the trade when the buyer opens it.
//
// gopay signs with the current time as timestamp, not req.Now; the trade's
// lifetime is still the attempt's (timeout_express from req.ExpiresAt-req.Now).
func (a *Alipay) Prepare(ctx context.Context, req cashier.PrepareRequest) (*cashier.Credential, error) {
	var pay func(context.Context, gopay.BodyMap) (string, error)
	switch req.Gateway {
	case GatewayApp:
		pay = a.client.TradeAppPay
	case GatewayWeb:
		pay = a.client.TradePagePay // sets product_code FAST_INSTANT_TRADE_PAY
	case GatewayWap:
		pay = a.client.TradeWapPay // sets product_code QUICK_WAP_WAY
	case GatewayQR:
		pay = a.precreate
	default:
		return nil, cashier.Errorf(cashier.EINVALID, "alipay gateway %q is not supported: use app, web, wap or qr", req.Gateway)
	}
	if req.OutTradeNo == "" || len(req.OutTradeNo) > maxOutTradeNo {
		return nil, cashier.Errorf(cashier.EINVALID, "alipay needs an out_trade_no of 1 to %d characters", maxOutTradeNo)
	}
	if req.Amount <= 0 {
		return nil, cashier.Errorf(cashier.EINVALID, "amount must be at least 0.01 yuan")
	}
	if strings.TrimSpace(req.Subject) == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "alipay needs a subject")
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	timeout, err := timeoutExpress(req.ExpiresAt, now)
	if err != nil {
		return nil, err
	}

	// The BodyMap becomes biz_content (gopay's json.Marshal escapes '&', '<'
	// and '>' in the subject as \u0026…, which is the same JSON string).
	// notify_url and return_url go in it too, gopay's documented way of
	// setting them per request, which it copies to the common parameters:
	// the client's SetNotifyUrl/SetReturnUrl would change the client that
	// concurrent calls share. (The copies left in biz_content are unknown
	// fields there.)
	bm := make(gopay.BodyMap)
	bm.Set("out_trade_no", req.OutTradeNo).
		Set("total_amount", cashier.FormatYuan(req.Amount)).
		Set("subject", channel.Clip(req.Subject, maxSubjectRunes))
	if timeout != "" {
		bm.Set("timeout_express", timeout)
	}
	if req.NotifyURL != "" {
		bm.Set("notify_url", req.NotifyURL)
	}
	if req.Gateway == GatewayApp {
		bm.Set("product_code", "QUICK_MSECURITY_PAY")
	} else if req.ReturnURL != "" {
		bm.Set("return_url", req.ReturnURL)
	}
	if req.Gateway == GatewayQR {
		bm.Set("product_code", "FACE_TO_FACE_PAYMENT")
	}
	value, err := pay(ctx, bm)
	if cashier.ErrorCode(err) == cashier.ECHANNEL {
		return nil, err
	} else if err != nil {
		return nil, cashier.WrapError(err, cashier.EINTERNAL, "could not sign the alipay order")
	}
	if req.Gateway == GatewayWeb || req.Gateway == GatewayWap {
		query, ok := strings.CutPrefix(value, gopayPayURL)
		if !ok {
			return nil, cashier.Errorf(cashier.EINTERNAL, "gopay returned an alipay pay URL not on %s", gopayPayURL)
		}
		value = a.gateway + "?" + query
	}
	a.log.DebugContext(ctx, "alipay: prepared", "gateway", req.Gateway, "out_trade_no", req.OutTradeNo)
	return &cashier.Credential{Value: value}, nil
}

// timeoutExpress is how long Alipay keeps the trade open, in whole minutes
// rounded down so that Alipay never accepts a payment after the attempt
// expired here; at least one minute, at most Alipay's maximum of 15 days. A zero
// expiry leaves Alipay's default.
func timeoutExpress(expiresAt, now time.Time) (string, error) {
	if expiresAt.IsZero() {
		return "", nil
	}
	left := expiresAt.Sub(now)
	if left <= 0 {
		return "", cashier.Errorf(cashier.EUNPROCESSABLE, "order has expired")
	}
	left = min(left, maxTimeout)
	return fmt.Sprintf("%dm", max(int64(left/time.Minute), 1)), nil
}

// precreate places a 当面付 trade (alipay.trade.precreate) and returns the
// qr_code Alipay answers, after checking the answer's signature.
func (a *Alipay) precreate(ctx context.Context, bm gopay.BodyMap) (string, error) {
	const method = "alipay.trade.precreate"
	ctx, x := gopaykit.WithExchange(ctx)
	rsp, err := a.client.TradePrecreate(ctx, bm)
	if err != nil {
		apiErr, err := a.refusal(ctx, method, x, err)
		if err != nil {
			return "", err
		}
		return "", cashier.WrapError(apiErr, cashier.ECHANNEL, "alipay: "+apiErr.message())
	}
	if err := a.verifyAnswer(ctx, method, rsp.SignData, rsp.Sign); err != nil {
		return "", err
	}
	if rsp.Response == nil || rsp.Response.QrCode == "" {
		return "", cashier.Errorf(cashier.ECHANNEL, "alipay answered %s without a qr_code", method)
	}
	return rsp.Response.QrCode, nil
}
