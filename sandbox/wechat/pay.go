package wechat

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"cashier/internal/chinatime"
	"cashier/sandbox"

	"github.com/go-pay/gopay"
	gopaywechat "github.com/go-pay/gopay/wechat"

	"cashier"
)

// servePayPage is what the buyer sees on opening a code_url (its pay page,
// /qr/{token}) or an H5 URL (/h5/{prepay_id}): the trade, with Pay and
// Cancel buttons.
func (w *WeChat) servePayPage(rw http.ResponseWriter, r *http.Request) {
	otn, ok := w.outTradeNoBy(r.PathValue("prepay_id"), r.PathValue("token"))
	if !ok {
		w.errorPage(rw, r, http.StatusNotFound, "ORDERNOTEXIST", "This sandbox has no such trade: its pay links are valid while it runs.")
		return
	}
	t, _ := w.trade(otn)
	if t.State != wechatNotPay && t.State != wechatPayError {
		w.errorPage(rw, r, http.StatusConflict, "ORDERPAID", fmt.Sprintf("Trade %s is %s: there is nothing to pay.", t.OutTradeNo, t.State))
		return
	}
	if !t.ExpiresAt.IsZero() && w.now().After(t.ExpiresAt) {
		w.errorPage(rw, r, http.StatusConflict, "ORDERCLOSED", fmt.Sprintf("Trade %s has expired (time_expire has passed).", t.OutTradeNo))
		return
	}
	w.renderPage(rw, r, http.StatusOK, "pay", wechatPayPageData{
		OutTradeNo:  t.OutTradeNo,
		Amount:      cashier.FormatYuan(t.TotalFee),
		Body:        t.Body,
		MchID:       w.MchID,
		TradeType:   t.TradeType,
		RedirectURL: redirectURL(r),
	})
}

// servePay pays (result=success, the default) or fails (result=fail) the
// trade given by out_trade_no or prepay_id, and sends its notification to
// the trade's notify_url as WeChat Pay would.
func (w *WeChat) servePay(rw http.ResponseWriter, r *http.Request) {
	refuse := func(rf *sandbox.Refusal, answer *sandbox.PayAnswer) {
		sandbox.WriteRefusal(rw, r, rf, answer, w.errorPage)
	}
	paid, rf := sandbox.ReadPayForm(rw, r, "PARAM_ERROR")
	if rf != nil {
		refuse(rf, nil)
		return
	}
	otn, prepayID := r.PostFormValue("out_trade_no"), r.PostFormValue("prepay_id")
	if otn == "" {
		if prepayID == "" {
			refuse(&sandbox.Refusal{Status: http.StatusBadRequest, Code: "PARAM_ERROR", Reason: "give out_trade_no or prepay_id"}, nil)
			return
		}
		var ok bool
		if otn, ok = w.outTradeNoBy(prepayID, ""); !ok {
			refuse(&sandbox.Refusal{Status: http.StatusNotFound, Code: "ORDERNOTEXIST", Reason: fmt.Sprintf("WeChat Pay sandbox has no trade with prepay_id %s", prepayID)}, nil)
			return
		}
	}
	answer, err := w.Pay(r.Context(), otn, paid, false)
	if err != nil {
		if !errors.As(err, &rf) {
			rf = &sandbox.Refusal{Status: http.StatusInternalServerError, Code: "SYSTEMERROR", Reason: err.Error()}
		}
		refuse(rf, answer)
		return
	}
	if sandbox.WantsHTML(r) {
		w.renderPage(rw, r, http.StatusOK, "result", wechatResultData{PayAnswer: answer, RedirectURL: redirectURL(r)})
		return
	}
	sandbox.WriteJSON(rw, http.StatusOK, answer)
}

// Pay pays or fails the trade out_trade_no and sends its notification unless
// hold is set. A failed v2 payment is notified with result_code FAIL
// (PAYERROR); a failed v3 one closes the trade, which WeChat Pay does not
// notify.
func (w *WeChat) Pay(ctx context.Context, otn string, paid, hold bool) (*sandbox.PayAnswer, error) {
	t, ok := w.trade(otn)
	if !ok {
		status, reason := w.lostTrade(ctx, otn)
		return nil, &sandbox.Refusal{Status: status, Code: "ORDERNOTEXIST", Reason: reason}
	}
	version := w.notifyVersion(t)
	if (version == 3 && !w.v3Configured()) || (version == 2 && !w.v2Configured()) {
		return nil, &sandbox.Refusal{Status: http.StatusServiceUnavailable, Code: "sandbox-not-configured",
			Reason: fmt.Sprintf("the WeChat Pay sandbox cannot sign v%d notifications: it lacks keys", version)}
	}
	t, err := w.settleTrade(otn, paid, version)
	if err != nil {
		if errors.Is(err, error(wechatErrOrderNotExist)) {
			return nil, &sandbox.Refusal{Status: http.StatusNotFound, Code: "ORDERNOTEXIST", Reason: fmt.Sprintf("WeChat Pay sandbox has no trade %s", otn)}
		}
		return nil, &sandbox.Refusal{Status: http.StatusConflict, Code: "ORDERPAID", Reason: err.Error()}
	}
	w.log().InfoContext(ctx, "sandbox wechat: trade settled", "out_trade_no", t.OutTradeNo, "trade_state", t.State)
	answer := &sandbox.PayAnswer{OutTradeNo: t.OutTradeNo, ChannelTradeNo: t.TransactionID, Status: t.State, Paid: t.State == wechatSuccess}
	if t.State == wechatClosed {
		answer.Note = "closed unpaid: WeChat Pay sends no notification for that"
		return answer, nil
	}
	if answer.Notification, err = w.notification(t, version); err != nil {
		return nil, err
	}
	if err := sandbox.Send(ctx, w.httpClient(), answer, hold); err != nil {
		w.log().WarnContext(ctx, "sandbox wechat: notification not delivered", "out_trade_no", t.OutTradeNo, "err", err)
		return answer, err
	}
	return answer, nil
}

// lostTrade explains an out_trade_no the simulator does not know.
func (w *WeChat) lostTrade(ctx context.Context, otn string) (status int, reason string) {
	notFound := fmt.Sprintf("WeChat Pay sandbox has no trade %s", otn)
	if w.Lookup == nil {
		return http.StatusNotFound, notFound
	}
	if _, err := w.Lookup(ctx, otn); err != nil {
		if cashier.ErrorCode(err) == cashier.ENOTFOUND {
			return http.StatusNotFound, notFound
		}
		return http.StatusInternalServerError, "looking the attempt up failed: " + cashier.ErrorMessage(err)
	}
	return http.StatusConflict, fmt.Sprintf("cashier has attempt %s, but this WeChat Pay sandbox has no trade for it: it keeps trades in memory (was it restarted?); pay a new attempt", otn)
}

// notifyVersion is the format of t's notification.
func (w *WeChat) notifyVersion(t wechatTrade) int {
	if w.APIVersion == 2 || w.APIVersion == 3 {
		return w.APIVersion
	}
	return t.Version
}

// notification is t's notification in API version.
func (w *WeChat) notification(t wechatTrade, version int) (*sandbox.Message, error) {
	m := &sandbox.Message{URL: t.NotifyURL, Header: http.Header{"User-Agent": {userAgent}}}
	if version == 3 {
		body, err := w.notificationV3(t)
		if err != nil {
			return nil, err
		}
		if err := w.v3Sign(m.Header, body); err != nil {
			return nil, err
		}
		m.Body = body
		m.Header.Set("Content-Type", "application/json")
		return m, nil
	}
	m.Body = []byte(gopaywechat.GenerateXml(w.notificationV2(t)))
	m.Header.Set("Content-Type", "text/xml")
	return m, nil
}

// userAgent is what the simulated WeChat Pay's notifications say they are.
const userAgent = "Mozilla/4.0 (cashier WeChat Pay sandbox)"

// notificationV2 is the XML WeChat Pay posts: the trade, signed the way its
// order was. WeChat Pay does not say how (no sign_type).
func (w *WeChat) notificationV2(t wechatTrade) gopay.BodyMap {
	bm := gopay.BodyMap{
		"return_code":  "SUCCESS",
		"appid":        w.AppID,
		"mch_id":       w.MchID,
		"nonce_str":    wechatRandomString(32),
		"openid":       w.openID(),
		"is_subscribe": "N",
		"trade_type":   t.TradeType,
		"bank_type":    "OTHERS",
		"total_fee":    strconv.FormatInt(t.TotalFee, 10),
		"fee_type":     "CNY",
		"out_trade_no": t.OutTradeNo,
	}
	if t.State == wechatSuccess {
		bm.Set("result_code", "SUCCESS").
			Set("cash_fee", strconv.FormatInt(t.TotalFee, 10)).
			Set("transaction_id", t.TransactionID).
			Set("time_end", t.Paid.In(chinatime.Location()).Format(wechatV2TimeLayout))
	} else {
		bm.Set("result_code", "FAIL").Set("err_code", "PAYERROR").Set("err_code_des", "支付失败")
	}
	signType := t.SignType
	if signType == "" {
		signType = w.SignType
	}
	if signType == "" {
		signType = wechatMD5
	}
	bm.Set("sign", gopaywechat.GetReleaseSign(w.APIKey, signType, bm))
	return bm
}

// wechatV3Event is a v3 notification.
type wechatV3Event struct {
	ID           string           `json:"id"`
	CreateTime   string           `json:"create_time"`
	ResourceType string           `json:"resource_type"`
	EventType    string           `json:"event_type"`
	Summary      string           `json:"summary"`
	Resource     wechatV3Resource `json:"resource"`
}

type wechatV3Resource struct {
	OriginalType   string `json:"original_type"`
	Algorithm      string `json:"algorithm"`
	Ciphertext     string `json:"ciphertext"`
	AssociatedData string `json:"associated_data"`
	Nonce          string `json:"nonce"`
}

// notificationV3 is the JSON event WeChat Pay posts: the transaction,
// encrypted with the APIv3 key (AEAD_AES_256_GCM, the tag after the
// ciphertext). The standard library encrypts here: gopay, a client library,
// only decrypts, so the channel's decryption is checked against another
// implementation.
func (w *WeChat) notificationV3(t wechatTrade) ([]byte, error) {
	return w.v3Event("TRANSACTION.SUCCESS", "支付成功", "transaction", w.v3TransactionOf(t))
}

// v3AEAD is AEAD_AES_256_GCM with the APIv3 key, which seals v3
// notifications' resources.
func (w *WeChat) v3AEAD() (cipher.AEAD, error) {
	block, err := aes.NewCipher([]byte(w.APIv3Key))
	if err != nil {
		return nil, fmt.Errorf("APIv3 key: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("APIv3 key: %w", err)
	}
	return gcm, nil
}

// v3Event is a v3 notification of eventType whose resource is v, as JSON,
// encrypted as originalType (which is also the associated data).
func (w *WeChat) v3Event(eventType, summary, originalType string, v any) ([]byte, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", originalType, err)
	}
	gcm, err := w.v3AEAD()
	if err != nil {
		return nil, err
	}
	nonce := wechatRandomString(gcm.NonceSize())
	aad := originalType
	sealed := gcm.Seal(nil, []byte(nonce), plain, []byte(aad))
	now := w.now()
	return json.Marshal(wechatV3Event{
		ID:           fmt.Sprintf("%s-%s", now.In(chinatime.Location()).Format("20060102150405"), wechatRandomString(12)),
		CreateTime:   now.In(chinatime.Location()).Format(time.RFC3339),
		ResourceType: "encrypt-resource",
		EventType:    eventType,
		Summary:      summary,
		Resource: wechatV3Resource{
			OriginalType:   originalType,
			Algorithm:      "AEAD_AES_256_GCM",
			Ciphertext:     base64.StdEncoding.EncodeToString(sealed),
			AssociatedData: aad,
			Nonce:          nonce,
		},
	})
}
