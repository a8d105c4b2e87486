package ipaynow

import (
	"context"
	"strconv"
	"strings"
	"time"

	"cashier"
	"cashier/channel"
	"cashier/internal/chinatime"
)

const timeLayout = "20060102150405" // iPayNow's times, China Standard Time

// AppParams are the SDK parameters the app hands iPayNow's plugin, in the
// seed's order and shape (mhtOrderAmt a number).
type AppParams struct {
	Funcode           string `json:"funcode"`
	Version           string `json:"version"`
	AppID             string `json:"appId"`
	MhtOrderNo        string `json:"mhtOrderNo"`
	MhtOrderName      string `json:"mhtOrderName"`
	MhtOrderType      string `json:"mhtOrderType"`
	MhtCurrencyType   string `json:"mhtCurrencyType"`
	MhtOrderAmt       int64  `json:"mhtOrderAmt"`
	MhtOrderDetail    string `json:"mhtOrderDetail"`
	MhtOrderTimeOut   int    `json:"mhtOrderTimeOut"`
	MhtOrderStartTime string `json:"mhtOrderStartTime"`
	NotifyURL         string `json:"notifyUrl"`
	MhtCharset        string `json:"mhtCharset"`
	DeviceType        string `json:"deviceType"`
	PayChannelType    string `json:"payChannelType"`
	ConsumerCreateIP  string `json:"consumerCreateIp"`
	MhtSignType       string `json:"mhtSignType"`
	MhtSignature      string `json:"mhtSignature"`
}

// H5Link is the answer in H5 mode: the link the client opens (a scheme
// URL, or an https page), as the seed shows it.
type H5Link struct {
	IsH5 bool   `json:"is_h5"`
	URL  string `json:"url"`
}

// Prepare builds what the client pays with: in APP mode the signed SDK
// parameters (no call to iPayNow); in H5 mode the link of a WP001 order.
func (c *IPayNow) Prepare(ctx context.Context, req cashier.PrepareRequest) (*cashier.Credential, error) {
	pct, ok := payChannelTypes[req.Gateway]
	if !ok {
		return nil, cashier.Errorf(cashier.EINVALID, "helloNow gateway %q: use alipay or wechat", req.Gateway)
	}
	if req.Amount <= 0 {
		return nil, cashier.Errorf(cashier.EINVALID, "amount must be at least 0.01 yuan")
	}
	if req.OutTradeNo == "" || len(req.OutTradeNo) > 40 {
		return nil, cashier.Errorf(cashier.EINVALID, "helloNow mhtOrderNo must be 1 to 40 characters")
	}
	fields := map[string]string{
		"funcode": "WP001", "version": "1.0.0", "appId": c.cfg.AppID, "mhtOrderNo": req.OutTradeNo,
		"mhtOrderName": channel.Clip(req.Subject, 40), "mhtOrderType": c.cfg.OrderType, "mhtCurrencyType": "156",
		"mhtOrderAmt": strconv.FormatInt(req.Amount, 10), "mhtOrderDetail": channel.Clip(req.Subject, 200),
		"mhtOrderTimeOut":   strconv.Itoa(timeOut(req.Now, req.ExpiresAt)),
		"mhtOrderStartTime": chinatime.In(req.Now).Format(timeLayout), "notifyUrl": req.NotifyURL,
		"mhtCharset": "UTF-8", "payChannelType": pct, "consumerCreateIp": req.ClientIP, "mhtSignType": "MD5",
	}
	if c.h5(req.Gateway) {
		return c.prepareH5(ctx, fields)
	}
	fields["deviceType"] = "01"
	p := AppParams{
		Funcode: fields["funcode"], Version: fields["version"], AppID: c.cfg.AppID, MhtOrderNo: req.OutTradeNo,
		MhtOrderName: fields["mhtOrderName"], MhtOrderType: c.cfg.OrderType, MhtCurrencyType: "156", MhtOrderAmt: req.Amount,
		MhtOrderDetail: fields["mhtOrderDetail"], MhtOrderTimeOut: timeOut(req.Now, req.ExpiresAt),
		MhtOrderStartTime: fields["mhtOrderStartTime"], NotifyURL: req.NotifyURL, MhtCharset: "UTF-8", DeviceType: "01",
		PayChannelType: pct, ConsumerCreateIP: req.ClientIP, MhtSignType: "MD5",
	}
	p.MhtSignature = sign(c.cfg.AppKey, appSigned(fields, c.cfg.SignFields))
	return &cashier.Credential{Value: p}, nil
}

// appSigned are the fields of APP mode's parameters that the app plugin
// signs: which ones depends on the plugin's version (PROTOCOLS.md).
func appSigned(fields map[string]string, set string) map[string]string {
	names := []string{"appId", "mhtCharset", "mhtCurrencyType", "mhtOrderAmt", "mhtOrderDetail", "mhtOrderName",
		"mhtOrderNo", "mhtOrderStartTime", "mhtOrderType", "notifyUrl", "payChannelType",
		"consumerId", "consumerName", "mhtLimitPay", "mhtOrderTimeOut", "mhtReserved", "mhtSubAppId", "outputType"}
	if set == SignFieldsIOS2017 {
		names = append(names, "funcode", "deviceType", "version", "mhtSignType")
	}
	signed := make(map[string]string, len(names))
	for _, n := range names {
		if v := fields[n]; v != "" {
			signed[n] = v
		}
	}
	return signed
}

// prepareH5 places the order with iPayNow (WP001, deviceType 0601) and
// answers the link it returns.
func (c *IPayNow) prepareH5(ctx context.Context, fields map[string]string) (*cashier.Credential, error) {
	fields["deviceType"] = "0601"
	fields["outputType"] = c.cfg.OutputType
	fields["mhtSignature"] = sign(c.cfg.AppKey, fields, "mhtSignature")
	ans, err := c.call(ctx, "WP001", c.cfg.GatewayURL, fields, true)
	if err != nil {
		return nil, err
	}
	if ans["responseCode"] != "A001" {
		return nil, c.refused("WP001", ans)
	}
	link := ans["tn"]
	if link == "" {
		return nil, cashier.Errorf(cashier.ECHANNEL, "iPayNow answered WP001 without a link (tn)")
	}
	return &cashier.Credential{Value: H5Link{IsH5: true, URL: link}, ChannelTradeNo: ans["nowPayOrderNo"]}, nil
}

// timeOut is mhtOrderTimeOut: the seconds until the order expires, within
// the 60 to 3600 iPayNow allows.
func timeOut(now, expires time.Time) int {
	secs := int(expires.Sub(now).Seconds())
	return min(max(secs, 60), 3600)
}

// refused is the error of a verified answer that says no, in iPayNow's words.
func (c *IPayNow) refused(op string, ans map[string]string) error {
	msg := strings.TrimSpace(ans["responseMsg"])
	return cashier.Errorf(cashier.ECHANNEL, "iPayNow refused %s: %s %s", op, ans["responseCode"], msg)
}
