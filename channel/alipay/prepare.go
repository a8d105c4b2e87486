package alipay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"cashier"
)

// Methods and product codes of the three gateways.
var gatewayMethods = map[string]struct{ method, productCode string }{
	GatewayApp: {"alipay.trade.app.pay", "QUICK_MSECURITY_PAY"},
	GatewayWeb: {"alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY"},
	GatewayWap: {"alipay.trade.wap.pay", "QUICK_WAP_WAY"},
}

// Alipay's limits on biz_content fields.
const (
	maxSubjectRunes = 256
	maxOutTradeNo   = 64
	maxTimeout      = 15 * 24 * time.Hour
)

// payContent is the biz_content of the pay methods; the struct keeps the
// field order stable, which makes the signed text reproducible.
type payContent struct {
	OutTradeNo     string `json:"out_trade_no"`
	TotalAmount    string `json:"total_amount"`
	Subject        string `json:"subject"`
	ProductCode    string `json:"product_code"`
	TimeoutExpress string `json:"timeout_express,omitempty"`
}

// Prepare builds the credential for one attempt: the signed order string for
// the app gateway, the signed gateway.do URL for web and wap. No call to
// Alipay is made: Alipay creates the trade when the buyer opens it.
func (a *Alipay) Prepare(ctx context.Context, req cashier.PrepareRequest) (*cashier.Credential, error) {
	gw, ok := gatewayMethods[req.Gateway]
	if !ok {
		return nil, cashier.Errorf(cashier.EINVALID, "alipay gateway %q is not supported: use app, web or wap", req.Gateway)
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

	content := payContent{
		OutTradeNo:     req.OutTradeNo,
		TotalAmount:    cashier.FormatYuan(req.Amount),
		Subject:        truncateRunes(req.Subject, maxSubjectRunes),
		ProductCode:    gw.productCode,
		TimeoutExpress: timeout,
	}
	params, err := a.commonParams(gw.method, content, now)
	if err != nil {
		return nil, err
	}
	if req.NotifyURL != "" {
		params["notify_url"] = req.NotifyURL
	}
	if req.Gateway != GatewayApp && req.ReturnURL != "" {
		params["return_url"] = req.ReturnURL
	}
	if err := a.signParams(params); err != nil {
		return nil, cashier.WrapError(err, cashier.EINTERNAL, "could not sign the alipay order")
	}

	value := encodeParams(params)
	if req.Gateway != GatewayApp {
		value = a.gateway + "?" + value
	}
	a.log.DebugContext(ctx, "alipay: prepared", "gateway", req.Gateway, "out_trade_no", req.OutTradeNo)
	return &cashier.Credential{Value: value}, nil
}

// commonParams returns the unsigned common parameters of a request to method.
func (a *Alipay) commonParams(method string, bizContent any, now time.Time) (map[string]string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Subjects with '&' or '<' stay readable; escaping is not needed in JSON.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(bizContent); err != nil {
		return nil, cashier.WrapError(err, cashier.EINTERNAL, "could not encode the alipay request")
	}
	params := map[string]string{
		"app_id":      a.appID,
		"method":      method,
		"format":      "JSON",
		"charset":     "utf-8",
		"sign_type":   "RSA2",
		"timestamp":   now.In(a.beijing).Format(timeLayout),
		"version":     "1.0",
		"biz_content": strings.TrimSuffix(buf.String(), "\n"),
	}
	if a.appCertSN != "" {
		params["app_cert_sn"] = a.appCertSN
		params["alipay_root_cert_sn"] = a.rootCertSN
	}
	return params, nil
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

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
