package adapay

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"

	"cashier"
	"cashier/channel"
	"cashier/internal/chinatime"
)

// timeLayout is time_expire's: China Standard Time. Uncertain (the public
// material does not show it); kept here.
const timeLayout = "20060102150405"

// payment is AdaPay's payment object, as far as cashier reads it.
type payment struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	AppID   string `json:"app_id"`
	OrderNo string `json:"order_no"`
	PayAmt  string `json:"pay_amt"`
	Status  string `json:"status"` // pending, succeeded, failed
	Expend  struct {
		QRCodeURL string `json:"qrcode_url"`
		PayInfo   string `json:"pay_info"`
	} `json:"expend"`
	EndTime string `json:"end_time"`
}

// Prepare places an alipay_qr payment and answers the link the Alipay app
// opens: alipays://platformapi/startapp?saId=10000007&qrcode=<AdaPay's QR
// link>, as the seed shows it.
func (a *AdaPay) Prepare(ctx context.Context, req cashier.PrepareRequest) (*cashier.Credential, error) {
	if req.Gateway != GatewayAlipay {
		return nil, cashier.Errorf(cashier.EINVALID, "adapay gateway %q: use alipay", req.Gateway)
	}
	if req.Amount <= 0 {
		return nil, cashier.Errorf(cashier.EINVALID, "amount must be at least 0.01 yuan")
	}
	body := map[string]string{
		"app_id": a.cfg.AppID, "order_no": req.OutTradeNo, "pay_channel": "alipay_qr", "pay_amt": cashier.FormatYuan(req.Amount),
		"goods_title": channel.Clip(req.Subject, 64), "goods_desc": channel.Clip(req.Subject, 127), "currency": "cny",
		"notify_url": req.NotifyURL, "time_expire": chinatime.In(req.ExpiresAt).Format(timeLayout),
	}
	data, err := a.call(ctx, "create payment", "/v1/payments", nil, body)
	if err != nil {
		return nil, err
	}
	var p payment
	if err := json.Unmarshal(data, &p); err != nil || p.ID == "" {
		return nil, cashier.Errorf(cashier.ECHANNEL, "AdaPay's payment has no id")
	}
	if p.Status == "failed" || p.OrderNo != req.OutTradeNo {
		return nil, cashier.Errorf(cashier.ECHANNEL, "AdaPay did not place payment %s (%s)", req.OutTradeNo, p.Status)
	}
	qr := p.Expend.QRCodeURL
	if qr == "" {
		qr = p.Expend.PayInfo // the public material names either
	}
	if qr == "" {
		return nil, cashier.Errorf(cashier.ECHANNEL, "AdaPay's payment %s has no QR link", p.ID)
	}
	return &cashier.Credential{Value: "alipays://platformapi/startapp?saId=10000007&qrcode=" + qr, ChannelTradeNo: p.ID}, nil
}

// Query asks AdaPay about a payment, by the id it gave when it was placed.
func (a *AdaPay) Query(ctx context.Context, t cashier.Trade) (*cashier.Notification, error) {
	if t.ChannelTradeNo == "" {
		return nil, cashier.Errorf(cashier.ENOTFOUND, "AdaPay never placed %s", t.OutTradeNo)
	}
	data, err := a.call(ctx, "query payment", "/v1/payments/"+url.PathEscape(t.ChannelTradeNo), url.Values{"payment_id": {t.ChannelTradeNo}}, nil)
	if err != nil {
		if e, ok := refusalOf(err); ok && notFound(e) {
			return nil, cashier.WrapError(err, cashier.ENOTFOUND, "AdaPay has no payment "+t.ChannelTradeNo)
		}
		return nil, err
	}
	n, err := paymentNotification(data)
	if err != nil {
		return nil, cashier.WrapError(err, cashier.ECHANNEL, "AdaPay's payment is malformed: "+cashier.ErrorMessage(err))
	}
	if n.OutTradeNo != t.OutTradeNo {
		return nil, cashier.Errorf(cashier.ECHANNEL, "AdaPay answered about order %s, not %s", n.OutTradeNo, t.OutTradeNo)
	}
	return n, nil
}

// Close closes a payment not paid yet. A payment AdaPay never placed is not
// an error; one that is paid is ECONFLICT, found by asking when the close is
// refused (the refusals' codes are not public).
func (a *AdaPay) Close(ctx context.Context, t cashier.Trade) error {
	if t.ChannelTradeNo == "" {
		return nil
	}
	_, err := a.call(ctx, "close payment", "/v1/payments/"+url.PathEscape(t.ChannelTradeNo)+"/close", nil,
		map[string]string{"payment_id": t.ChannelTradeNo, "reason": "closed by the merchant"})
	e, refused := refusalOf(err)
	switch {
	case err == nil:
		return nil
	case !refused:
		return err
	case notFound(e):
		return nil
	}
	n, qerr := a.Query(ctx, t)
	if qerr == nil && n.Status == cashier.NotifyPaid {
		return cashier.WrapError(err, cashier.ECONFLICT, "AdaPay cannot close "+t.OutTradeNo+": it is paid")
	}
	return err
}

// notFound says whether a refusal means that AdaPay has no such payment or
// refund. Uncertain (the codes are not public); kept here.
func notFound(e *apiError) bool {
	code := strings.ToLower(e.Code)
	return strings.Contains(code, "not_exist") || strings.Contains(code, "not_found") || strings.Contains(e.Msg, "不存在")
}

// paymentNotification reads a payment object.
func paymentNotification(data []byte) (*cashier.Notification, error) {
	var p payment
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, cashier.Errorf(cashier.EINVALID, "not a payment object")
	}
	if p.OrderNo == "" || p.ID == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "payment without order_no or id")
	}
	n := &cashier.Notification{OutTradeNo: p.OrderNo, ChannelTradeNo: p.ID, RawStatus: p.Status}
	switch p.Status {
	case "succeeded":
		n.Status = cashier.NotifyPaid
	case "failed":
		n.Status = cashier.NotifyFailed
	case "pending":
		n.Status = cashier.NotifyPending
	case "closed":
		n.Status = cashier.NotifyClosed
	default:
		return nil, cashier.Errorf(cashier.EINVALID, "payment status %q", p.Status)
	}
	if p.PayAmt != "" || n.Status == cashier.NotifyPaid {
		fen, err := cashier.ParseYuan(p.PayAmt)
		if err != nil {
			return nil, cashier.Errorf(cashier.EINVALID, "pay_amt %q", p.PayAmt)
		}
		n.Amount = fen
	}
	if p.EndTime != "" {
		if t, err := chinatime.Parse(timeLayout, p.EndTime); err == nil {
			n.PaidAt = t.UTC()
		}
	}
	return n, nil
}
