package wechat

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-pay/gopay"
	gopaywechat "github.com/go-pay/gopay/wechat"
	gopaywechat3 "github.com/go-pay/gopay/wechat/v3"

	"cashier"
	"cashier/internal/chinatime"
)

// WeChat Pay's limits on order fields.
const (
	maxBodyV2        = 128 // bytes of body
	maxDescriptionV3 = 127 // bytes of description
	maxOutTradeNo    = 32
)

// defaultClientIP stands in for spbill_create_ip when the buyer's address is
// unknown: WeChat Pay requires one.
const defaultClientIP = "127.0.0.1"

// appPackage is the fixed package field of APP payments.
const appPackage = "Sign=WXPay"

// AppParams is the app gateway's credential, what the app hands to the
// WeChat SDK (PayReq), in both API versions: v2 signs it with the API key,
// v3 with the merchant key.
type AppParams struct {
	AppID     string `json:"appid"`
	PartnerID string `json:"partnerid"`
	PrepayID  string `json:"prepayid"`
	Package   string `json:"package"`
	NonceStr  string `json:"noncestr"`
	Timestamp string `json:"timestamp"`
	Sign      string `json:"sign"`
}

// NativeOrder is the v2 scan credential: the unifiedorder answer's fields,
// as the order API has always returned them. The client shows code_url as a
// QR code.
type NativeOrder struct {
	ReturnCode string `json:"return_code"`
	ReturnMsg  string `json:"return_msg"`
	AppID      string `json:"appid"`
	MchID      string `json:"mch_id"`
	NonceStr   string `json:"nonce_str"`
	Sign       string `json:"sign"`
	ResultCode string `json:"result_code"`
	PrepayID   string `json:"prepay_id"`
	TradeType  string `json:"trade_type"`
	CodeURL    string `json:"code_url"`
}

// NativeCode is the v3 scan credential: v3 answers only the code URL.
type NativeCode struct {
	CodeURL string `json:"code_url"`
}

// v2TradeTypes is the v2 trade_type of each gateway.
var v2TradeTypes = map[string]string{
	GatewayApp:  gopaywechat.TradeType_App,
	GatewayScan: gopaywechat.TradeType_Native,
	GatewayWap:  gopaywechat.TradeType_H5,
}

// Prepare places the order at WeChat Pay and builds what the client pays
// with: app, the SDK parameters (AppParams); scan, the QR code (NativeOrder
// for v2, NativeCode for v3); wap, the URL a mobile browser opens (string).
// ChannelTradeNo is the prepay_id when WeChat Pay answers one (v2 always,
// v3 for app only).
func (w *WeChat) Prepare(ctx context.Context, req cashier.PrepareRequest) (*cashier.Credential, error) {
	switch req.Gateway {
	case GatewayApp, GatewayScan, GatewayWap:
	case GatewayWeb:
		return nil, cashier.Errorf(cashier.EINVALID, "wechat gateway %q is withdrawn: use app, scan or wap", req.Gateway)
	default:
		return nil, cashier.Errorf(cashier.EINVALID, "wechat gateway %q is not supported: use app, scan or wap", req.Gateway)
	}
	if err := checkOutTradeNo(req.OutTradeNo); err != nil {
		return nil, err
	}
	if req.Amount <= 0 {
		return nil, cashier.Errorf(cashier.EINVALID, "amount must be at least 0.01 yuan")
	}
	if strings.TrimSpace(req.Subject) == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "wechat needs a subject")
	}
	if req.NotifyURL == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "wechat needs a notify_url")
	}
	if req.Now.IsZero() {
		req.Now = w.now()
	}
	if !req.ExpiresAt.IsZero() && !req.ExpiresAt.After(req.Now) {
		return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "order has expired")
	}
	if req.ClientIP == "" {
		req.ClientIP = defaultClientIP
	}
	var (
		cred *cashier.Credential
		err  error
	)
	if w.version == 3 {
		cred, err = w.prepareV3(ctx, req)
	} else {
		cred, err = w.prepareV2(ctx, req)
	}
	if err != nil {
		return nil, err
	}
	w.log.DebugContext(ctx, "wechat: prepared", "gateway", req.Gateway, "out_trade_no", req.OutTradeNo, "prepay_id", cred.ChannelTradeNo)
	return cred, nil
}

// prepareV2 calls /pay/unifiedorder.
func (w *WeChat) prepareV2(ctx context.Context, req cashier.PrepareRequest) (*cashier.Credential, error) {
	tradeType := v2TradeTypes[req.Gateway]
	bm := make(gopay.BodyMap)
	bm.Set("body", truncateBytes(req.Subject, maxBodyV2)).
		Set("out_trade_no", req.OutTradeNo).
		Set("total_fee", strconv.FormatInt(req.Amount, 10)).
		Set("spbill_create_ip", req.ClientIP).
		Set("notify_url", req.NotifyURL).
		Set("trade_type", tradeType)
	if !req.ExpiresAt.IsZero() {
		bm.Set("time_expire", chinatime.In(req.ExpiresAt).Format(v2TimeLayout))
	}
	if tradeType == gopaywechat.TradeType_H5 {
		bm.Set("scene_info", `{"h5_info":{"type":"Wap"}}`)
	}
	ans, err := w.callV2(ctx, OpUnifiedOrder, bm, func(ctx context.Context, bm gopay.BodyMap) error {
		_, err := w.v2.UnifiedOrder(ctx, bm)
		return err
	})
	if err != nil {
		return nil, err
	}
	prepayID := ans.GetString("prepay_id")
	if prepayID == "" {
		return nil, cashier.Errorf(cashier.ECHANNEL, "WeChat Pay's answer to %s has no prepay_id", OpUnifiedOrder)
	}
	cred := &cashier.Credential{ChannelTradeNo: prepayID}
	switch req.Gateway {
	case GatewayApp:
		p := AppParams{
			AppID:     w.appID,
			PartnerID: w.mchID,
			PrepayID:  prepayID,
			Package:   appPackage,
			NonceStr:  newNonce(),
			Timestamp: strconv.FormatInt(req.Now.Unix(), 10),
		}
		p.Sign = gopaywechat.GetAppPaySign(p.AppID, p.PartnerID, p.NonceStr, p.PrepayID, w.signType, p.Timestamp, w.apiKey)
		cred.Value = p
	case GatewayScan:
		o := NativeOrder{
			ReturnCode: ans.GetString("return_code"),
			ReturnMsg:  ans.GetString("return_msg"),
			AppID:      ans.GetString("appid"),
			MchID:      ans.GetString("mch_id"),
			NonceStr:   ans.GetString("nonce_str"),
			Sign:       ans.GetString("sign"),
			ResultCode: ans.GetString("result_code"),
			PrepayID:   prepayID,
			TradeType:  ans.GetString("trade_type"),
			CodeURL:    ans.GetString("code_url"),
		}
		if o.CodeURL == "" {
			return nil, cashier.Errorf(cashier.ECHANNEL, "WeChat Pay's answer to %s has no code_url", OpUnifiedOrder)
		}
		cred.Value = o
	case GatewayWap:
		u := ans.GetString("mweb_url")
		if u == "" {
			return nil, cashier.Errorf(cashier.ECHANNEL, "WeChat Pay's answer to %s has no mweb_url", OpUnifiedOrder)
		}
		cred.Value = u
	}
	return cred, nil
}

// prepareV3 calls /v3/pay/transactions/app|native|h5.
func (w *WeChat) prepareV3(ctx context.Context, req cashier.PrepareRequest) (*cashier.Credential, error) {
	bm := make(gopay.BodyMap)
	bm.Set("appid", w.appID).
		Set("mchid", w.mchID).
		Set("description", truncateBytes(req.Subject, maxDescriptionV3)).
		Set("out_trade_no", req.OutTradeNo).
		Set("notify_url", req.NotifyURL).
		SetBodyMap("amount", func(b gopay.BodyMap) {
			b.Set("total", req.Amount).Set("currency", "CNY")
		})
	if !req.ExpiresAt.IsZero() {
		bm.Set("time_expire", chinatime.In(req.ExpiresAt).Format(time.RFC3339))
	}
	if req.Gateway == GatewayWap {
		bm.SetBodyMap("scene_info", func(b gopay.BodyMap) {
			b.Set("payer_client_ip", req.ClientIP).
				SetBodyMap("h5_info", func(h gopay.BodyMap) { h.Set("type", "Wap") })
		})
	}
	var send func(context.Context) error
	switch req.Gateway {
	case GatewayApp:
		send = func(ctx context.Context) error { _, err := w.v3.V3TransactionApp(ctx, bm); return err }
	case GatewayScan:
		send = func(ctx context.Context) error { _, err := w.v3.V3TransactionNative(ctx, bm); return err }
	case GatewayWap:
		send = func(ctx context.Context) error { _, err := w.v3.V3TransactionH5(ctx, bm); return err }
	}
	x, err := w.callV3(ctx, OpUnifiedOrder, send)
	if err != nil {
		return nil, err
	}
	// gopay's answer types, read from the verified bytes.
	var ans struct {
		gopaywechat3.Prepay
		gopaywechat3.Native
		gopaywechat3.H5Url
	}
	if err := json.Unmarshal(x.Body, &ans); err != nil {
		return nil, cashier.WrapError(err, cashier.ECHANNEL, "WeChat Pay's answer to "+OpUnifiedOrder+" is malformed")
	}
	switch req.Gateway {
	case GatewayApp:
		if ans.PrepayId == "" {
			return nil, cashier.Errorf(cashier.ECHANNEL, "WeChat Pay's answer to %s has no prepay_id", OpUnifiedOrder)
		}
		p := AppParams{
			AppID:     w.appID,
			PartnerID: w.mchID,
			PrepayID:  ans.PrepayId,
			Package:   appPackage,
			NonceStr:  newNonce(),
			Timestamp: strconv.FormatInt(req.Now.Unix(), 10),
		}
		if p.Sign, err = w.signAppV3(p.Timestamp, p.NonceStr, p.PrepayID); err != nil {
			return nil, cashier.WrapError(err, cashier.EINTERNAL, "could not sign the wechat app parameters")
		}
		return &cashier.Credential{Value: p, ChannelTradeNo: ans.PrepayId}, nil
	case GatewayScan:
		if ans.CodeUrl == "" {
			return nil, cashier.Errorf(cashier.ECHANNEL, "WeChat Pay's answer to %s has no code_url", OpUnifiedOrder)
		}
		return &cashier.Credential{Value: NativeCode{CodeURL: ans.CodeUrl}}, nil
	default:
		if ans.H5Url.H5Url == "" {
			return nil, cashier.Errorf(cashier.ECHANNEL, "WeChat Pay's answer to %s has no h5_url", OpUnifiedOrder)
		}
		return &cashier.Credential{Value: ans.H5Url.H5Url}, nil
	}
}

// checkOutTradeNo enforces WeChat Pay's out_trade_no: 1 to 32 of digits,
// letters, '_', '-' and '*'. It is also part of v3 URL paths.
func checkOutTradeNo(s string) error {
	ok := s != "" && len(s) <= maxOutTradeNo
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-' || c == '*'
	}
	if !ok {
		return cashier.Errorf(cashier.EINVALID, "wechat needs an out_trade_no of 1 to %d letters, digits, '_', '-' or '*'", maxOutTradeNo)
	}
	return nil
}

// truncateBytes cuts s to at most n bytes, on a rune boundary.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
