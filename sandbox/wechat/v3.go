package wechat

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"cashier/internal/chinatime"
	"cashier/sandbox"
)

// wechatV3Scheme is the Authorization scheme and signature type of v3.
const wechatV3Scheme = "WECHATPAY2-SHA256-RSA2048"

// wechatV3Window is how far a request's timestamp may be from now.
const wechatV3Window = 5 * time.Minute

// wechatV3Error is a v3 refusal: the HTTP status and the {code, message} body.
type wechatV3Error struct {
	status        int
	code, message string
}

// wechatV3Statuses is the HTTP status WeChat Pay answers each code with.
var wechatV3Statuses = map[string]int{
	"PARAM_ERROR":           http.StatusBadRequest,
	"INVALID_REQUEST":       http.StatusBadRequest,
	"APPID_MCHID_NOT_MATCH": http.StatusBadRequest,
	"ORDER_CLOSED":          http.StatusBadRequest,
	"SIGN_ERROR":            http.StatusUnauthorized,
	"ORDERPAID":             http.StatusForbidden,
	"OUT_TRADE_NO_USED":     http.StatusForbidden,
	"ORDER_NOT_EXIST":       http.StatusNotFound,
	"RESOURCE_NOT_EXISTS":   http.StatusNotFound,
	"NOT_ENOUGH":            http.StatusForbidden,
	"USER_ACCOUNT_ABNORMAL": http.StatusForbidden,
	"FREQUENCY_LIMITED":     http.StatusTooManyRequests,
	"SYSTEM_ERROR":          http.StatusInternalServerError,
}

// wechatV3Codes renames the v2 err_codes whose v3 spelling differs.
var wechatV3Codes = map[string]string{
	"ORDERCLOSED":    "ORDER_CLOSED",
	"ORDERNOTEXIST":  "ORDER_NOT_EXIST",
	"REFUNDNOTEXIST": "RESOURCE_NOT_EXISTS",
	"NOTENOUGH":      "NOT_ENOUGH",
	"ERROR":          "INVALID_REQUEST", // v2's business error said in words
}

// wechatV3Refusal is a refusal in v3's words.
func wechatV3Refusal(r *wechatRefusal) *wechatV3Error {
	code := r.code
	if c, ok := wechatV3Codes[code]; ok {
		code = c
	}
	status, ok := wechatV3Statuses[code]
	if !ok {
		status = http.StatusBadRequest
	}
	return &wechatV3Error{status: status, code: code, message: r.des}
}

// wechatV3Handler handles one v3 call whose signature checked out: the
// status and JSON answer (nil for none), or a refusal.
type wechatV3Handler func(r *http.Request, body []byte) (int, any, *wechatV3Error)

// serveV3 reads and checks a v3 call the way WeChat Pay does (the
// Authorization signature with the merchant key), applies any injected
// fault, and writes the answer signed with the platform key.
func (w *WeChat) serveV3(op string, handle wechatV3Handler) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		if !w.v3Configured() {
			http.Error(rw, "the WeChat Pay sandbox has no v3 merchant key, platform key or APIv3 key", http.StatusServiceUnavailable)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, wechatMaxBody))
		if err != nil {
			w.v3Write(rw, r, http.StatusBadRequest, wechatV3ErrorBody("PARAM_ERROR", "请求读取失败"))
			return
		}
		if err := w.v3VerifyRequest(r, body); err != nil {
			w.log().InfoContext(r.Context(), "sandbox wechat: v3 request refused", "op", op, "err", err)
			// Answers to requests that do not verify carry no signature.
			sandbox.WriteJSON(rw, http.StatusUnauthorized, wechatV3ErrorBody("SIGN_ERROR", "签名错误: "+err.Error()))
			return
		}
		key := w.PlatformKey
		if f, ok := w.faults.Take(op); ok {
			if !f.Wait(r.Context()) {
				return
			}
			if e := v3FaultError(f); e != nil {
				w.v3Write(rw, r, e.status, wechatV3ErrorBody(e.code, e.message))
				return
			}
			if f.ForgedAnswer {
				if key, err = sandbox.ForgerKey(); err != nil {
					http.Error(rw, "sandbox: forger key", http.StatusInternalServerError)
					return
				}
			}
		}
		status, v, e := handle(r, body)
		if e != nil {
			w.log().InfoContext(r.Context(), "sandbox wechat: v3 call refused", "op", op, "status", e.status, "code", e.code, "message", e.message)
			w.v3WriteSigned(rw, r, e.status, wechatV3ErrorBody(e.code, e.message), key)
			return
		}
		w.v3WriteSigned(rw, r, status, v, key)
	}
}

// v3FaultError is what f makes a v3 call answer; nil: answer normally.
func v3FaultError(f sandbox.Fault) *wechatV3Error {
	switch {
	case f.ErrCode != "":
		e := wechatV3Refusal(&wechatRefusal{f.ErrCode, f.ErrCodeDes})
		if f.HTTPStatus != 0 {
			e.status = f.HTTPStatus
		}
		return e
	case f.HTTPStatus >= 500:
		return &wechatV3Error{f.HTTPStatus, "SYSTEM_ERROR", "系统错误"}
	case f.HTTPStatus == http.StatusTooManyRequests:
		return &wechatV3Error{f.HTTPStatus, "FREQUENCY_LIMITED", "频率超限"}
	case f.HTTPStatus != 0:
		return &wechatV3Error{f.HTTPStatus, "INVALID_REQUEST", http.StatusText(f.HTTPStatus)}
	}
	return nil
}

func wechatV3ErrorBody(code, message string) map[string]string {
	return map[string]string{"code": code, "message": message}
}

// v3VerifyRequest checks the Authorization header: the merchant, the
// timestamp (within five minutes), and the SHA256withRSA signature with MerchantKey over
// "METHOD\nPATH?QUERY\ntimestamp\nnonce\nbody\n". PATH is the path WeChat
// Pay would see, without the simulator's prefix. Written here because gopay,
// a client library, has no verifier for merchant signatures.
func (w *WeChat) v3VerifyRequest(r *http.Request, body []byte) error {
	scheme, rest, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if scheme != wechatV3Scheme {
		return fmt.Errorf("authorization scheme is not %s", wechatV3Scheme)
	}
	params := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		params[k] = strings.Trim(v, `"`)
	}
	for _, k := range []string{"mchid", "nonce_str", "timestamp", "serial_no", "signature"} {
		if params[k] == "" {
			return fmt.Errorf("authorization has no %s", k)
		}
	}
	if params["mchid"] != w.MchID {
		return fmt.Errorf("mchid %q is not the sandbox merchant", params["mchid"])
	}
	sec, err := strconv.ParseInt(params["timestamp"], 10, 64)
	if err != nil {
		return errors.New("timestamp is not a unix time")
	}
	// Against the wall clock, not Now: gopay, which cashier's channel signs
	// requests with, stamps them with the wall clock whatever clock the
	// rest of cashier and this simulator are given.
	if d := time.Since(time.Unix(sec, 0)); d > wechatV3Window || d < -wechatV3Window {
		return fmt.Errorf("timestamp %d is more than %v from the clock", sec, wechatV3Window)
	}
	target := strings.TrimPrefix(r.URL.EscapedPath(), wechatPrefix)
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	msg := r.Method + "\n" + target + "\n" + params["timestamp"] + "\n" + params["nonce_str"] + "\n" + string(body) + "\n"
	sig, err := base64.StdEncoding.DecodeString(params["signature"])
	if err != nil {
		return errors.New("signature is not base64")
	}
	digest := sha256.Sum256([]byte(msg))
	if err := rsa.VerifyPKCS1v15(w.MerchantKey, crypto.SHA256, digest[:], sig); err != nil {
		return errors.New("signature does not verify with the merchant key")
	}
	return nil
}

// v3Write writes v as JSON (nothing when nil) with the status, signed.
func (w *WeChat) v3Write(rw http.ResponseWriter, r *http.Request, status int, v any) {
	w.v3WriteSigned(rw, r, status, v, w.PlatformKey)
}

// v3WriteSigned writes an answer signed with key: WeChat Pay's, or a
// forger's for an injected ForgedAnswer.
func (w *WeChat) v3WriteSigned(rw http.ResponseWriter, r *http.Request, status int, v any, key *rsa.PrivateKey) {
	var body []byte
	if v != nil {
		var err error
		if body, err = json.Marshal(v); err != nil {
			http.Error(rw, "sandbox: encode answer", http.StatusInternalServerError)
			return
		}
	}
	if err := w.v3SignWith(key, rw.Header(), body); err != nil {
		w.log().ErrorContext(r.Context(), "sandbox wechat: sign answer", "err", err)
		http.Error(rw, "sandbox: sign answer", http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Request-ID", wechatRandomString(32))
	if body != nil {
		rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	rw.WriteHeader(status)
	rw.Write(body)
}

// v3Sign sets the Wechatpay-* headers of body, as WeChat Pay signs answers
// and notifications: SHA256withRSA with PlatformKey over
// "timestamp\nnonce\nbody\n". gopay has no signer for this side.
func (w *WeChat) v3Sign(h http.Header, body []byte) error {
	return w.v3SignWith(w.PlatformKey, h, body)
}

// v3SignWith signs as v3Sign does, with key.
func (w *WeChat) v3SignWith(key *rsa.PrivateKey, h http.Header, body []byte) error {
	ts := strconv.FormatInt(w.now().Unix(), 10)
	nonce := wechatRandomString(32)
	digest := sha256.Sum256([]byte(ts + "\n" + nonce + "\n" + string(body) + "\n"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	h.Set("Wechatpay-Timestamp", ts)
	h.Set("Wechatpay-Nonce", nonce)
	h.Set("Wechatpay-Signature", base64.StdEncoding.EncodeToString(sig))
	h.Set("Wechatpay-Serial", w.PlatformSerial)
	h.Set("Wechatpay-Signature-Type", wechatV3Scheme)
	return nil
}

// wechatV3Order is the body of the v3 app/native/h5 calls.
type wechatV3Order struct {
	AppID       string `json:"appid"`
	MchID       string `json:"mchid"`
	Description string `json:"description"`
	OutTradeNo  string `json:"out_trade_no"`
	TimeExpire  string `json:"time_expire"`
	NotifyURL   string `json:"notify_url"`
	Amount      *struct {
		Total    int64  `json:"total"`
		Currency string `json:"currency"`
	} `json:"amount"`
	SceneInfo *struct {
		PayerClientIP string `json:"payer_client_ip"`
		H5Info        *struct {
			Type string `json:"type"`
		} `json:"h5_info"`
	} `json:"scene_info"`
}

// v3Transaction places an order (POST /v3/pay/transactions/app|native|h5).
func (w *WeChat) v3Transaction(tradeType string) wechatV3Handler {
	return func(r *http.Request, body []byte) (int, any, *wechatV3Error) {
		var req wechatV3Order
		if err := json.Unmarshal(body, &req); err != nil {
			return 0, nil, wechatV3Refusal(wechatParamError("请求体不是合法的JSON: %v", err))
		}
		if req.AppID != w.AppID || req.MchID != w.MchID {
			return 0, nil, wechatV3Refusal(&wechatRefusal{"APPID_MCHID_NOT_MATCH", "appid和mchid不匹配"})
		}
		switch {
		case req.Description == "" || req.OutTradeNo == "" || req.NotifyURL == "":
			return 0, nil, wechatV3Refusal(wechatParamError("description、out_trade_no、notify_url为必填"))
		case req.Amount == nil || req.Amount.Total <= 0:
			return 0, nil, wechatV3Refusal(wechatParamError("amount.total必须为正整数（分）"))
		case req.Amount.Currency != "" && req.Amount.Currency != "CNY":
			return 0, nil, wechatV3Refusal(wechatParamError("amount.currency只支持CNY"))
		case tradeType == wechatMWEB && (req.SceneInfo == nil || req.SceneInfo.PayerClientIP == "" || req.SceneInfo.H5Info == nil || req.SceneInfo.H5Info.Type == ""):
			return 0, nil, wechatV3Refusal(wechatParamError("H5支付需要scene_info.payer_client_ip和scene_info.h5_info.type"))
		}
		if ref := wechatCheckOrder(req.OutTradeNo, req.Description, 127, req.NotifyURL); ref != nil {
			return 0, nil, wechatV3Refusal(ref)
		}
		o := wechatOrder{
			version:    3,
			outTradeNo: req.OutTradeNo,
			tradeType:  tradeType,
			body:       req.Description,
			totalFee:   req.Amount.Total,
			notifyURL:  req.NotifyURL,
		}
		if req.TimeExpire != "" {
			var err error
			if o.expiresAt, err = time.Parse(time.RFC3339, req.TimeExpire); err != nil {
				return 0, nil, wechatV3Refusal(wechatParamError("time_expire不是RFC3339时间"))
			}
			if !o.expiresAt.After(w.now()) {
				return 0, nil, wechatV3Refusal(wechatParamError("time_expire已过期"))
			}
		}
		t, refusal := w.placeOrder(o)
		if refusal != nil {
			return 0, nil, wechatV3Refusal(refusal)
		}
		switch tradeType {
		case wechatNative:
			return http.StatusOK, map[string]string{"code_url": wechatCodeURL(t.Token)}, nil
		case wechatMWEB:
			return http.StatusOK, map[string]string{"h5_url": wechatBaseURL(r) + "/h5/" + t.PrepayID}, nil
		default:
			return http.StatusOK, map[string]string{"prepay_id": t.PrepayID}, nil
		}
	}
}

// v3Query answers a trade (GET /v3/pay/transactions/out-trade-no/{otn}?mchid=).
func (w *WeChat) v3Query(r *http.Request, _ []byte) (int, any, *wechatV3Error) {
	if r.URL.Query().Get("mchid") != w.MchID {
		return 0, nil, wechatV3Refusal(wechatParamError("mchid与商户号不符"))
	}
	t, ok := w.trade(r.PathValue("otn"))
	if !ok {
		return 0, nil, wechatV3Refusal(wechatErrOrderNotExist)
	}
	return http.StatusOK, w.v3TransactionOf(t), nil
}

// v3Close closes an unpaid trade (POST /v3/pay/transactions/out-trade-no/{otn}/close).
// Closing a closed trade answers 204 again.
func (w *WeChat) v3Close(r *http.Request, body []byte) (int, any, *wechatV3Error) {
	var req struct {
		MchID string `json:"mchid"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.MchID != w.MchID {
		return 0, nil, wechatV3Refusal(wechatParamError("mchid与商户号不符"))
	}
	if _, refusal := w.closeTrade(r.PathValue("otn")); refusal != nil {
		return 0, nil, wechatV3Refusal(refusal)
	}
	return http.StatusNoContent, nil, nil
}

// wechatV3Txn is a v3 transaction object: the query answer and the
// plaintext of a payment notification's resource.
type wechatV3Txn struct {
	AppID          string `json:"appid"`
	MchID          string `json:"mchid"`
	OutTradeNo     string `json:"out_trade_no"`
	TransactionID  string `json:"transaction_id,omitempty"`
	TradeType      string `json:"trade_type"`
	TradeState     string `json:"trade_state"`
	TradeStateDesc string `json:"trade_state_desc"`
	BankType       string `json:"bank_type,omitempty"`
	Attach         string `json:"attach"`
	SuccessTime    string `json:"success_time,omitempty"`
	Payer          *struct {
		OpenID string `json:"openid"`
	} `json:"payer,omitempty"`
	Amount struct {
		Total         int64  `json:"total"`
		PayerTotal    *int64 `json:"payer_total,omitempty"`
		Currency      string `json:"currency"`
		PayerCurrency string `json:"payer_currency"`
	} `json:"amount"`
}

func (w *WeChat) v3TransactionOf(t wechatTrade) wechatV3Txn {
	x := wechatV3Txn{
		AppID:          w.AppID,
		MchID:          w.MchID,
		OutTradeNo:     t.OutTradeNo,
		TradeType:      t.TradeType,
		TradeState:     t.queryState(),
		TradeStateDesc: wechatStateDesc[t.queryState()],
	}
	x.Amount.Total = t.TotalFee
	x.Amount.Currency, x.Amount.PayerCurrency = "CNY", "CNY"
	if t.State == wechatSuccess {
		x.TransactionID = t.TransactionID
		x.BankType = "OTHERS"
		x.SuccessTime = t.Paid.In(chinatime.Location()).Format(time.RFC3339)
		x.Payer = &struct {
			OpenID string `json:"openid"`
		}{w.openID()}
		x.Amount.PayerTotal = &t.TotalFee
	}
	return x
}
