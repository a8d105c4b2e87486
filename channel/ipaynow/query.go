package ipaynow

import (
	"context"

	"cashier"
)

// Query asks iPayNow about an order (MQ002). The query names the order's
// deviceType, which the attempt does not record: APP's 01 is asked first,
// then H5's 0601 when iPayNow knows no such order.
func (c *IPayNow) Query(ctx context.Context, t cashier.Trade) (*cashier.Notification, error) {
	var last error
	for _, deviceType := range []string{"01", "0601"} {
		fields := map[string]string{"funcode": "MQ002", "version": "1.0.0", "deviceType": deviceType, "appId": c.cfg.AppID,
			"mhtOrderNo": t.OutTradeNo, "mhtCharset": "UTF-8", "mhtSignType": "MD5"}
		fields["mhtSignature"] = sign(c.cfg.AppKey, fields, "mhtSignature")
		ans, err := c.call(ctx, "MQ002", c.cfg.GatewayURL, fields, true)
		if err != nil {
			return nil, err
		}
		if ans["responseCode"] == "A001" {
			n, err := trade(ans)
			if err != nil {
				return nil, cashier.WrapError(err, cashier.ECHANNEL, "iPayNow's answer to MQ002 is malformed: "+cashier.ErrorMessage(err))
			}
			if n.OutTradeNo != t.OutTradeNo {
				return nil, cashier.Errorf(cashier.ECHANNEL, "iPayNow answered MQ002 about order %s", n.OutTradeNo)
			}
			return n, nil
		}
		if !notFound(ans) {
			return nil, c.refused("MQ002", ans)
		}
		last = cashier.Errorf(cashier.ENOTFOUND, "iPayNow has no order %s", t.OutTradeNo)
	}
	return nil, last
}
