package ipaynow

import (
	"context"
	"strconv"

	"cashier"
	"cashier/internal/chinatime"
)

// VerifyNotification checks an N001 notification: a form whose values are
// URL-decoded once, signed over every non-empty field but signature
// (signType included), for this app.
func (c *IPayNow) VerifyNotification(ctx context.Context, msg *cashier.InboundRequest) (*cashier.Notification, error) {
	if msg == nil || len(msg.Body) == 0 {
		return nil, cashier.Errorf(cashier.EINVALID, "empty helloNow notification")
	}
	fields, err := form(string(msg.Body))
	if err != nil || fields["signature"] == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "malformed helloNow notification: not a signed form")
	}
	if !verify(c.cfg.AppKey, fields, "signature", true) {
		return nil, cashier.Errorf(cashier.EFORBIDDEN, "helloNow notification signature does not verify")
	}
	if fields["funcode"] != "N001" {
		return nil, cashier.Errorf(cashier.EINVALID, "helloNow notification has funcode %q, not N001", fields["funcode"])
	}
	if fields["appId"] != c.cfg.AppID {
		return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "helloNow notification is for app %q", fields["appId"])
	}
	n, err := trade(fields)
	if err != nil {
		return nil, err
	}
	c.log.InfoContext(ctx, "ipaynow: notification verified", "out_trade_no", n.OutTradeNo, "status", n.RawStatus)
	return n, nil
}

// trade reads what a notification or a query answer says of an order.
func trade(fields map[string]string) (*cashier.Notification, error) {
	n := &cashier.Notification{OutTradeNo: fields["mhtOrderNo"], ChannelTradeNo: fields["nowPayOrderNo"]}
	if n.OutTradeNo == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "malformed helloNow message: no mhtOrderNo")
	}
	n.RawStatus = fields["transStatus"]
	if n.RawStatus == "" {
		n.RawStatus = fields["tradeStatus"] // the older name
	}
	n.Status = status(n.RawStatus)
	if n.Status == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "malformed helloNow message: unknown transStatus %q", n.RawStatus)
	}
	if amt := fields["mhtOrderAmt"]; amt != "" || n.Status == cashier.NotifyPaid {
		fen, err := strconv.ParseInt(amt, 10, 64)
		if err != nil || fen < 0 {
			return nil, cashier.Errorf(cashier.EINVALID, "malformed helloNow message: mhtOrderAmt %q", amt)
		}
		n.Amount = fen
	}
	if pt := fields["payTime"]; pt != "" {
		t, err := chinatime.Parse(timeLayout, pt)
		if err != nil {
			return nil, cashier.Errorf(cashier.EINVALID, "malformed helloNow message: payTime %q", pt)
		}
		n.PaidAt = t.UTC()
	}
	return n, nil
}

// status maps iPayNow's transStatus: A001 paid; A002 failed and A005 not
// accepted; A006 closed; A003 (unknown), A004 (accepted) and A00I (not
// processed) still open.
func status(s string) cashier.NotifyStatus {
	switch s {
	case "A001":
		return cashier.NotifyPaid
	case "A002", "A005":
		return cashier.NotifyFailed
	case "A006":
		return cashier.NotifyClosed
	case "A003", "A004", "A00I":
		return cashier.NotifyPending
	}
	return ""
}
