package alipay

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"cashier/internal/chinatime"
	"cashier/sandbox"
)

// Gateway answer codes, Alipay's own.
const (
	codeSuccess         = "10000"
	codeInvalidArgument = "40002"
	codeBusinessFailed  = "40004"
)

// serveAPI answers server-to-server calls, signed form posts like the ones
// Alipay's SDKs send, with the JSON Alipay answers: the method's response
// object and the platform's signature over its exact bytes.
func (a *Alipay) serveAPI(w http.ResponseWriter, r *http.Request) {
	if !a.configured() {
		http.Error(w, "the Alipay sandbox has no app id or keys", http.StatusServiceUnavailable)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, sandbox.MaxForm)
	params, err := apiParams(r)
	if err != nil {
		a.writeAPI(w, r, "", invalid(subInvalidParameter, err.Error()))
		return
	}
	method := params["method"]
	if rf := a.verifyAppRequest(params); rf != nil {
		a.log().InfoContext(r.Context(), "sandbox alipay: API call refused", "method", method, "err", rf)
		a.writeAPI(w, r, method, invalid(rf.subCode, rf.reason))
		return
	}
	var biz alipayBiz
	if err := json.Unmarshal([]byte(params["biz_content"]), &biz); err != nil {
		a.writeAPI(w, r, method, invalid(subInvalidParameter, "biz_content is not a JSON object"))
		return
	}
	if biz.OutTradeNo == "" && biz.TradeNo == "" {
		a.writeAPI(w, r, method, businessFailed("ACQ.INVALID_PARAMETER", "out_trade_no or trade_no is required"))
		return
	}
	outTradeNo := biz.OutTradeNo
	if outTradeNo == "" {
		outTradeNo = a.outTradeNoOf(biz.TradeNo)
	}
	switch {
	case !slices.Contains(alipayAPIMethods, method):
		a.writeAPI(w, r, method, invalid(subInvalidMethod, fmt.Sprintf("method %q is not simulated", method)))
		return
	case outTradeNo == "":
		a.writeAPI(w, r, method, tradeNotExist())
		return
	}
	answered, f := a.faults.Fail(w, r, alipayOps[method], func(code, msg string) { a.writeAPI(w, r, method, businessFailed(code, msg)) })
	if answered {
		return
	}
	key := a.PlatformKey
	if f.ForgedAnswer {
		var err error
		if key, err = sandbox.ForgerKey(); err != nil {
			http.Error(w, "sandbox: forger key", http.StatusInternalServerError)
			return
		}
	}
	var resp map[string]string
	switch method {
	case "alipay.trade.precreate":
		resp = a.apiPrecreate(r, params)
	case "alipay.trade.query":
		resp = a.apiQuery(outTradeNo)
	case "alipay.trade.close":
		resp = a.apiClose(r.Context(), outTradeNo)
	case "alipay.trade.refund":
		resp = a.apiRefund(r.Context(), outTradeNo, biz)
	case "alipay.trade.fastpay.refund.query":
		resp = a.apiRefundQuery(outTradeNo, biz.OutRequestNo)
	}
	a.writeAPISigned(w, r, method, resp, key)
}

// alipayAPIMethods are the server-to-server methods the simulator answers.
var alipayAPIMethods = []string{"alipay.trade.precreate", "alipay.trade.query", "alipay.trade.close", "alipay.trade.refund", "alipay.trade.fastpay.refund.query"}

// alipayOps names each method's operation, for injected faults.
var alipayOps = map[string]string{
	"alipay.trade.precreate": sandbox.OpPrepare, "alipay.trade.query": sandbox.OpQuery, "alipay.trade.close": sandbox.OpClose,
	"alipay.trade.refund": sandbox.OpRefund, "alipay.trade.fastpay.refund.query": sandbox.OpRefundQuery,
}

// alipayBiz is the biz_content of the simulated API methods, all in one.
type alipayBiz struct {
	OutTradeNo string `json:"out_trade_no"`
	TradeNo    string `json:"trade_no"`
	// refund_amount is a Price: Alipay takes "9.00" as well as 9.00.
	RefundAmount json.Number `json:"refund_amount"`
	OutRequestNo string      `json:"out_request_no"`
	RefundReason string      `json:"refund_reason"`
}

// apiParams merges the form body and the URL query, as Alipay's gateway
// does: the official SDKs send the common parameters in the query and
// biz_content in the body.
func apiParams(r *http.Request) (map[string]string, error) {
	if err := r.ParseForm(); err != nil {
		return nil, fmt.Errorf("the form cannot be read: %w", err)
	}
	params, err := singleValues(r.PostForm)
	if err != nil {
		return nil, err
	}
	query, err := singleValues(r.URL.Query())
	if err != nil {
		return nil, err
	}
	for k, v := range query {
		if old, ok := params[k]; ok && old != v {
			return nil, fmt.Errorf("parameter %q differs between query and body", k)
		}
		params[k] = v
	}
	return params, nil
}

func (a *Alipay) apiQuery(outTradeNo string) map[string]string {
	t, ok := a.lookupTrade(outTradeNo)
	if !ok {
		return tradeNotExist()
	}
	resp := map[string]string{
		"code":             codeSuccess,
		"msg":              "Success",
		"out_trade_no":     t.OutTradeNo,
		"trade_no":         t.TradeNo,
		"trade_status":     t.Status,
		"total_amount":     t.TotalAmount,
		"buyer_logon_id":   "sandbox***@example.com",
		"buyer_user_id":    a.buyerID(),
		"buyer_pay_amount": "0.00",
		"receipt_amount":   "0.00",
		"invoice_amount":   "0.00",
		"point_amount":     "0.00",
	}
	if t.Status == statusSuccess {
		resp["buyer_pay_amount"] = t.TotalAmount
		resp["receipt_amount"] = t.TotalAmount
		resp["invoice_amount"] = t.TotalAmount
		resp["send_pay_date"] = t.Paid.In(chinatime.Location()).Format(alipayTimeLayout)
	}
	return resp
}

// apiClose closes a trade waiting for the buyer. A trade the buyer never
// opened exists only in cashier: when Lookup knows it, it is closed too, so
// that it cannot be paid afterwards.
func (a *Alipay) apiClose(ctx context.Context, outTradeNo string) map[string]string {
	if _, ok := a.lookupTrade(outTradeNo); !ok {
		if a.Lookup == nil {
			return tradeNotExist()
		}
		cred, err := a.Lookup(ctx, outTradeNo)
		if err != nil {
			return tradeNotExist()
		}
		o, err := a.parseOrder(cred)
		if err != nil || o.OutTradeNo != outTradeNo {
			a.log().WarnContext(ctx, "sandbox alipay: looked-up credential unusable", "out_trade_no", outTradeNo, "err", err)
			return tradeNotExist()
		}
		if _, err := a.openTrade(o); err != nil {
			return tradeNotExist()
		}
	}
	t, err := a.closeTrade(outTradeNo)
	if err != nil {
		return businessFailed("ACQ.TRADE_STATUS_ERROR", "交易状态不合法 (the trade is already paid)")
	}
	return map[string]string{"code": codeSuccess, "msg": "Success", "out_trade_no": t.OutTradeNo, "trade_no": t.TradeNo}
}

// closeTrade closes a known trade; closing a closed trade again is no error.
func (a *Alipay) closeTrade(outTradeNo string) (alipayTrade, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.trades[outTradeNo]
	switch t.Status {
	case statusWaitBuyerPay:
		t.Status, t.Closed = statusClosed, a.now()
	case statusClosed:
	default:
		return alipayTrade{}, fmt.Errorf("%w: trade %s is %s", errTradeConflict, outTradeNo, t.Status)
	}
	return *t, nil
}

func (a *Alipay) outTradeNoOf(tradeNo string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range a.trades {
		if t.TradeNo == tradeNo {
			return t.OutTradeNo
		}
	}
	return ""
}

func invalid(subCode, subMsg string) map[string]string {
	return map[string]string{"code": codeInvalidArgument, "msg": "Invalid Arguments", "sub_code": subCode, "sub_msg": subMsg}
}

func tradeNotExist() map[string]string {
	return businessFailed("ACQ.TRADE_NOT_EXIST", "交易不存在 (trade does not exist)")
}

func businessFailed(subCode, subMsg string) map[string]string {
	return map[string]string{"code": codeBusinessFailed, "msg": "Business Failed", "sub_code": subCode, "sub_msg": subMsg}
}

// writeAPI writes {"<method>_response": {...}, "sign": "..."}, the signature
// covering the exact bytes written for the response object.
func (a *Alipay) writeAPI(w http.ResponseWriter, r *http.Request, method string, resp map[string]string) {
	a.writeAPISigned(w, r, method, resp, a.PlatformKey)
}

// writeAPISigned writes an answer signed with signer: Alipay's key, or a
// forger's for an injected ForgedAnswer.
func (a *Alipay) writeAPISigned(w http.ResponseWriter, r *http.Request, method string, resp map[string]string, signer *rsa.PrivateKey) {
	key := "error_response"
	if method != "" {
		key = strings.ReplaceAll(method, ".", "_") + "_response"
	}
	raw, err := json.Marshal(resp)
	if err != nil {
		http.Error(w, "sandbox: encode answer", http.StatusInternalServerError)
		return
	}
	sign, err := signSHA256(signer, raw)
	if err != nil {
		a.log().ErrorContext(r.Context(), "sandbox alipay: sign answer", "err", err)
		http.Error(w, "sandbox: sign answer", http.StatusInternalServerError)
		return
	}
	keyJSON, _ := json.Marshal(key)
	signJSON, _ := json.Marshal(sign)
	body := fmt.Sprintf(`{%s:%s,"sign":%s}`, keyJSON, raw, signJSON)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write([]byte(body))
}

// apiPrecreate opens the trade of a precreate call (当面付) and answers its
// qr_code: here the simulator's pay page for the signed call, which is
// what the buyer's Alipay app opens on scanning it.
func (a *Alipay) apiPrecreate(r *http.Request, params map[string]string) map[string]string {
	values := url.Values{}
	for k, v := range params {
		values.Set(k, v)
	}
	o, err := a.parseOrder(values.Encode())
	if err != nil {
		return invalid(subInvalidParameter, err.Error())
	}
	if _, err := a.openTrade(o); err != nil {
		return businessFailed("ACQ.TRADE_STATUS_ERROR", err.Error())
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return map[string]string{"code": codeSuccess, "msg": "Success", "out_trade_no": o.OutTradeNo,
		"qr_code": scheme + "://" + r.Host + "/sandbox/alipay/gateway.do?" + o.Raw}
}
