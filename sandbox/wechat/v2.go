package wechat

import (
	"encoding/xml"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"cashier/internal/chinatime"

	"github.com/go-pay/gopay"
	gopaywechat "github.com/go-pay/gopay/wechat"
)

// wechatMaxBody bounds the requests the simulator reads.
const wechatMaxBody = 1 << 20

// wechatV2TimeLayout is v2's time format (time_expire, time_end), Beijing.
const wechatV2TimeLayout = "20060102150405"

// v2 sign types.
const (
	wechatMD5        = gopaywechat.SignType_MD5
	wechatHMACSHA256 = gopaywechat.SignType_HMAC_SHA256
)

// wechatV2Handler handles one v2 call whose signature checked out: it returns
// the answer's own fields, or a refusal (result_code FAIL).
type wechatV2Handler func(r *http.Request, req gopay.BodyMap, signType string) (gopay.BodyMap, *wechatRefusal)

// serveV2 reads and checks a v2 call the way WeChat Pay does (XML, mch_id,
// sign type, sign, then appid), applies any injected fault, and writes the
// signed answer.
//
// cashier's channel signs with gopay too, so requests are checked with
// gopay's VerifySign; channel/wechat's vector test pins gopay's signatures
// to a third party's.
func (w *WeChat) serveV2(op string, handle wechatV2Handler) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		if !w.v2Configured() {
			http.Error(rw, "the WeChat Pay sandbox has no v2 app id, merchant id or API key", http.StatusServiceUnavailable)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, wechatMaxBody))
		if err != nil {
			w.v2ReturnFail(rw, "请求读取失败")
			return
		}
		req := make(gopay.BodyMap)
		if err := xml.Unmarshal(body, &req); err != nil || len(req) == 0 {
			w.v2ReturnFail(rw, "XML格式错误")
			return
		}
		signType, fail := w.v2CheckRequest(req)
		if fail != "" {
			w.log().InfoContext(r.Context(), "sandbox wechat: v2 request refused", "op", op, "return_msg", fail)
			w.v2ReturnFail(rw, fail)
			return
		}
		key := w.APIKey
		if f, ok := w.faults.Take(op); ok {
			if !f.Wait(r.Context()) {
				return
			}
			switch {
			case f.ErrCode != "":
				w.v2Answer(rw, key, signType, nil, &wechatRefusal{f.ErrCode, f.ErrCodeDes})
				return
			case f.HTTPStatus != 0:
				http.Error(rw, http.StatusText(f.HTTPStatus), f.HTTPStatus)
				return
			case f.ReturnCode != "":
				w.writeV2(rw, gopay.BodyMap{"return_code": f.ReturnCode, "return_msg": f.ReturnMsg})
				return
			case f.ForgedAnswer:
				key = wechatRandomString(32) // not the merchant's API key
			}
		}
		if req.GetString("appid") != w.AppID {
			w.v2Answer(rw, key, signType, nil, &wechatRefusal{"APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配"})
			return
		}
		fields, refusal := handle(r, req, signType)
		if refusal != nil {
			w.log().InfoContext(r.Context(), "sandbox wechat: v2 call refused", "op", op, "err_code", refusal.code, "err_code_des", refusal.des)
		}
		w.v2Answer(rw, key, signType, fields, refusal)
	}
}

// v2CheckRequest checks what WeChat Pay checks before anything else and
// answers with return_code FAIL: the merchant, the sign type and the sign.
// It returns the request's sign type, or the return_msg of the failure.
func (w *WeChat) v2CheckRequest(req gopay.BodyMap) (signType, fail string) {
	if req.GetString("mch_id") != w.MchID {
		return "", "商户号mch_id不存在"
	}
	signType = req.GetString("sign_type")
	if signType == "" {
		signType = wechatMD5
	}
	if (signType != wechatMD5 && signType != wechatHMACSHA256) || (w.SignType != "" && signType != w.SignType) {
		return "", "sign_type参数格式错误"
	}
	if req.GetString("sign") == "" {
		return "", "缺少参数sign"
	}
	// VerifySign removes sign from the map it is given.
	if ok, err := gopaywechat.VerifySign(w.APIKey, signType, maps.Clone(req)); err != nil || !ok {
		return "", "签名错误"
	}
	if req.GetString("nonce_str") == "" {
		return "", "缺少参数nonce_str"
	}
	return signType, ""
}

// v2Answer writes an answer signed with apiKey (the merchant's, but for an
// injected ForgedAnswer): the common fields, then result_code SUCCESS with
// fields, or FAIL with the refusal.
func (w *WeChat) v2Answer(rw http.ResponseWriter, apiKey, signType string, fields gopay.BodyMap, refusal *wechatRefusal) {
	ans := gopay.BodyMap{
		"return_code": "SUCCESS",
		"return_msg":  "OK",
		"appid":       w.AppID,
		"mch_id":      w.MchID,
		"nonce_str":   wechatRandomString(32),
	}
	if refusal != nil {
		ans.Set("result_code", "FAIL").Set("err_code", refusal.code).Set("err_code_des", refusal.des)
	} else {
		ans.Set("result_code", "SUCCESS")
		maps.Copy(ans, fields)
	}
	ans.Set("sign", gopaywechat.GetReleaseSign(apiKey, signType, ans))
	w.writeV2(rw, ans)
}

// v2ReturnFail writes a communication failure, which WeChat Pay does not sign.
func (w *WeChat) v2ReturnFail(rw http.ResponseWriter, msg string) {
	w.writeV2(rw, gopay.BodyMap{"return_code": "FAIL", "return_msg": msg})
}

func (w *WeChat) writeV2(rw http.ResponseWriter, fields gopay.BodyMap) {
	rw.Header().Set("Content-Type", "text/xml; charset=utf-8")
	rw.WriteHeader(http.StatusOK)
	io.WriteString(rw, gopaywechat.GenerateXml(fields))
}

// v2UnifiedOrder places an order (/pay/unifiedorder).
func (w *WeChat) v2UnifiedOrder(r *http.Request, req gopay.BodyMap, signType string) (gopay.BodyMap, *wechatRefusal) {
	for _, k := range []string{"body", "out_trade_no", "total_fee", "spbill_create_ip", "notify_url", "trade_type"} {
		if req.GetString(k) == "" {
			return nil, wechatParamError("缺少参数%s", k)
		}
	}
	o := wechatOrder{
		version:    2,
		outTradeNo: req.GetString("out_trade_no"),
		tradeType:  req.GetString("trade_type"),
		body:       req.GetString("body"),
		notifyURL:  req.GetString("notify_url"),
		signType:   signType,
	}
	if ref := wechatCheckOrder(o.outTradeNo, o.body, 128, o.notifyURL); ref != nil {
		return nil, ref
	}
	var err error
	if o.totalFee, err = wechatParseFen(req.GetString("total_fee")); err != nil {
		return nil, wechatParamError("total_fee必须为正整数（分）")
	}
	switch o.tradeType {
	case wechatAPP, wechatNative:
	case wechatMWEB:
		if req.GetString("scene_info") == "" {
			return nil, wechatParamError("MWEB支付需要scene_info")
		}
	default:
		return nil, wechatParamError("trade_type %s 不支持：沙箱支持 APP、NATIVE、MWEB", o.tradeType)
	}
	if te := req.GetString("time_expire"); te != "" {
		if o.expiresAt, err = time.ParseInLocation(wechatV2TimeLayout, te, chinatime.Location()); err != nil {
			return nil, wechatParamError("time_expire格式错误")
		}
		if !o.expiresAt.After(w.now()) {
			return nil, wechatParamError("time_expire已过期")
		}
	}
	t, refusal := w.placeOrder(o)
	if refusal != nil {
		return nil, refusal
	}
	ans := gopay.BodyMap{"trade_type": t.TradeType, "prepay_id": t.PrepayID}
	switch t.TradeType {
	case wechatNative:
		ans.Set("code_url", wechatCodeURL(t.Token))
	case wechatMWEB:
		ans.Set("mweb_url", wechatBaseURL(r)+"/h5/"+t.PrepayID)
	}
	return ans, nil
}

// v2OrderQuery answers what the simulator knows of a trade (/pay/orderquery).
func (w *WeChat) v2OrderQuery(_ *http.Request, req gopay.BodyMap, _ string) (gopay.BodyMap, *wechatRefusal) {
	otn := req.GetString("out_trade_no")
	if otn == "" {
		tid := req.GetString("transaction_id")
		if tid == "" {
			return nil, wechatParamError("out_trade_no和transaction_id不能同时为空")
		}
		otn = w.outTradeNoOfTransaction(tid)
	}
	t, ok := w.trade(otn)
	if !ok {
		return nil, wechatErrOrderNotExist
	}
	ans := gopay.BodyMap{
		"out_trade_no":     t.OutTradeNo,
		"trade_type":       t.TradeType,
		"trade_state":      t.queryState(),
		"trade_state_desc": wechatStateDesc[t.queryState()],
		"total_fee":        strconv.FormatInt(t.TotalFee, 10),
		"fee_type":         "CNY",
	}
	if t.State == wechatSuccess {
		ans.Set("openid", w.openID()).
			Set("is_subscribe", "N").
			Set("bank_type", "OTHERS").
			Set("cash_fee", strconv.FormatInt(t.TotalFee, 10)).
			Set("transaction_id", t.TransactionID).
			Set("time_end", t.Paid.In(chinatime.Location()).Format(wechatV2TimeLayout))
	}
	return ans, nil
}

// v2CloseOrder closes an unpaid trade (/pay/closeorder).
func (w *WeChat) v2CloseOrder(_ *http.Request, req gopay.BodyMap, _ string) (gopay.BodyMap, *wechatRefusal) {
	otn := req.GetString("out_trade_no")
	if otn == "" {
		return nil, wechatParamError("缺少参数out_trade_no")
	}
	prev, refusal := w.closeTrade(otn)
	if refusal != nil {
		return nil, refusal
	}
	if prev.State == wechatClosed {
		return nil, wechatErrOrderClosed
	}
	return nil, nil
}

// outTradeNoOfTransaction finds the trade paid as transaction_id.
func (w *WeChat) outTradeNoOfTransaction(tid string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	for otn, t := range w.trades {
		if t.TransactionID == tid {
			return otn
		}
	}
	return ""
}

// wechatStateDesc is trade_state_desc, WeChat Pay's words.
var wechatStateDesc = map[string]string{
	wechatNotPay:   "订单未支付",
	wechatSuccess:  "支付成功",
	wechatClosed:   "订单已关闭",
	wechatPayError: "支付失败",
	wechatRefunded: "转入退款",
}

// wechatCheckOrder checks the fields both versions share.
func wechatCheckOrder(outTradeNo, body string, maxBody int, notifyURL string) *wechatRefusal {
	ok := len(outTradeNo) <= 32
	for i := 0; ok && i < len(outTradeNo); i++ {
		c := outTradeNo[i]
		ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-' || c == '*' || c == '|'
	}
	if !ok {
		return wechatParamError("out_trade_no只能是32位以内的数字、大小写字母_-|*")
	}
	if len(body) > maxBody {
		return wechatParamError("商品描述超过%d字节", maxBody)
	}
	if u, err := url.Parse(notifyURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return wechatParamError("notify_url格式错误")
	}
	return nil
}

// wechatParseFen parses a positive amount in fen, digits only.
func wechatParseFen(s string) (int64, error) {
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err == nil && n <= 0 {
		err = strconv.ErrRange
	}
	return n, err
}

// wechatCodeURL is a NATIVE code_url; its pay page is /sandbox/wechat/qr/{token}.
func wechatCodeURL(token string) string { return "weixin://wxpay/bizpayurl?pr=" + token }

// wechatBaseURL is the simulator's absolute URL as the caller reached it.
func wechatBaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + wechatPrefix
}
