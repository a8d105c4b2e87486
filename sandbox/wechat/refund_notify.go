package wechat

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"cashier/internal/chinatime"
	"cashier/sandbox"

	"github.com/go-pay/gopay"
	gopaywechat "github.com/go-pay/gopay/wechat"
)

// WeChatRefundSettled is what settling did with one refund: its new status
// and its notification. POST /sandbox/wechat/refund/settle answers a list
// of them.
type WeChatRefundSettled struct {
	OutTradeNo   string `json:"out_trade_no"`
	OutRefundNo  string `json:"out_refund_no"`
	RefundID     string `json:"refund_id"`
	RefundStatus string `json:"refund_status"` // v3's words: SUCCESS, ABNORMAL, CLOSED
	NotifyStatus int    `json:"notify_status"` // cashier's HTTP answer; 0: nothing sent
	NotifyReply  string `json:"notify_reply"`
	Note         string `json:"note,omitempty"`
	Error        string `json:"error,omitempty"` // the notification was not delivered
}

// wechatSettleResults are the results POST /sandbox/wechat/refund/settle takes.
var wechatSettleResults = map[string]string{
	"success":  wechatRefundSuccess,
	"abnormal": wechatRefundAbnormal,
	"closed":   wechatRefundClosed,
}

// SettleRefunds makes every refund in progress SUCCESS, as WeChat Pay does a
// while after taking it, and sends each its refund notification, to the
// notify_url the refund call gave (nothing without one), in the version of
// the API that asked for the refund (or APIVersion). It returns what it
// did, oldest refund first; a notification that was not delivered is
// reported in its Error, the refund stays settled.
func (w *WeChat) SettleRefunds(ctx context.Context) []WeChatRefundSettled {
	return w.settleAndNotify(ctx, "", wechatRefundSuccess)
}

// SettlePendingRefunds is SettleRefunds for the conformance suite: an
// undelivered notification is an error.
func (w *WeChat) SettlePendingRefunds(ctx context.Context) (int, error) {
	settled := w.SettleRefunds(ctx)
	for _, s := range settled {
		if s.Error != "" {
			return len(settled), fmt.Errorf("refund %s: %s", s.OutRefundNo, s.Error)
		}
	}
	return len(settled), nil
}

// serveSettleRefunds settles refunds in progress, all of them or the one
// out_refund_no, with result success (the default), abnormal or closed, and
// sends their notifications. It answers {"refunds": [WeChatRefundSettled…]}.
func (w *WeChat) serveSettleRefunds(rw http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(rw, r.Body, wechatMaxBody)
	if err := r.ParseForm(); err != nil {
		sandbox.WriteJSON(rw, http.StatusBadRequest, map[string]string{"code": "PARAM_ERROR", "error": "the form cannot be read: " + err.Error()})
		return
	}
	result := r.PostFormValue("result")
	if result == "" {
		result = "success"
	}
	status, ok := wechatSettleResults[result]
	if !ok {
		sandbox.WriteJSON(rw, http.StatusBadRequest, map[string]string{"code": "PARAM_ERROR", "error": fmt.Sprintf("result %q must be success, abnormal or closed", result)})
		return
	}
	outRefundNo := r.PostFormValue("out_refund_no")
	if outRefundNo != "" {
		rf, ok := w.refund(outRefundNo)
		if !ok {
			sandbox.WriteJSON(rw, http.StatusNotFound, map[string]string{"code": "RESOURCE_NOT_EXISTS", "error": fmt.Sprintf("WeChat Pay sandbox has no refund %s", outRefundNo)})
			return
		}
		if rf.Status != wechatRefundProcessing {
			sandbox.WriteJSON(rw, http.StatusConflict, map[string]string{"code": "INVALID_REQUEST", "error": fmt.Sprintf("refund %s is %s: there is nothing to settle", outRefundNo, rf.Status)})
			return
		}
	}
	sandbox.WriteJSON(rw, http.StatusOK, map[string]any{"refunds": w.settleAndNotify(r.Context(), outRefundNo, status)})
}

// settleAndNotify settles the refunds in progress (all, or outRefundNo)
// with status and sends their notifications.
func (w *WeChat) settleAndNotify(ctx context.Context, outRefundNo, status string) []WeChatRefundSettled {
	settled := w.settleRefunds(outRefundNo, status)
	out := make([]WeChatRefundSettled, 0, len(settled))
	for _, r := range settled {
		s := WeChatRefundSettled{OutTradeNo: r.OutTradeNo, OutRefundNo: r.OutRefundNo, RefundID: r.RefundID, RefundStatus: r.Status}
		w.log().InfoContext(ctx, "sandbox wechat: refund settled", "out_trade_no", r.OutTradeNo, "out_refund_no", r.OutRefundNo, "refund_status", r.Status)
		if r.NotifyURL == "" {
			s.Note = "no notify_url: WeChat Pay would notify the URL set in the merchant console"
		} else {
			var err error
			if s.NotifyStatus, s.NotifyReply, err = w.notifyRefund(ctx, r); err != nil {
				w.log().WarnContext(ctx, "sandbox wechat: refund notification not delivered", "out_refund_no", r.OutRefundNo, "err", err)
				s.Error = "notification not delivered: " + err.Error()
			}
		}
		out = append(out, s)
	}
	return out
}

// notifyRefund sends r's notification and returns cashier's answer. err is
// set only when no answer came.
func (w *WeChat) notifyRefund(ctx context.Context, r wechatRefund) (status int, reply string, err error) {
	version := r.Version
	if w.APIVersion == 2 || w.APIVersion == 3 {
		version = w.APIVersion
	}
	var (
		body   []byte
		header = http.Header{"User-Agent": {userAgent}}
	)
	switch {
	case version == 3 && w.v3Configured():
		if body, err = w.refundNotificationV3(r); err != nil {
			return 0, "", err
		}
		if err := w.v3Sign(header, body); err != nil {
			return 0, "", err
		}
		header.Set("Content-Type", "application/json")
	case version == 2 && w.v2Configured():
		fields, err := w.refundNotificationV2(r)
		if err != nil {
			return 0, "", err
		}
		body = []byte(gopaywechat.GenerateXml(fields))
		header.Set("Content-Type", "text/xml")
	default:
		return 0, "", fmt.Errorf("the WeChat Pay sandbox cannot make v%d notifications: it lacks keys", version)
	}
	return sandbox.Deliver(ctx, w.httpClient(), &sandbox.Message{URL: r.NotifyURL, Header: header, Body: body})
}

// refundNotificationV2 is the XML WeChat Pay posts about a refund: no sign,
// the refund in req_info, encrypted with the API key (wechatEncryptReqInfo).
func (w *WeChat) refundNotificationV2(r wechatRefund) (gopay.BodyMap, error) {
	info := gopay.BodyMap{
		"transaction_id":        r.TransactionID,
		"out_trade_no":          r.OutTradeNo,
		"refund_id":             r.RefundID,
		"out_refund_no":         r.OutRefundNo,
		"total_fee":             strconv.FormatInt(r.Total, 10),
		"settlement_total_fee":  strconv.FormatInt(r.Total, 10),
		"refund_fee":            strconv.FormatInt(r.Amount, 10),
		"settlement_refund_fee": strconv.FormatInt(r.Amount, 10),
		"refund_status":         wechatV2RefundStatus(r.Status),
		"refund_recv_accout":    "支付用户的零钱",
		"refund_account":        "REFUND_SOURCE_UNSETTLED_FUNDS",
		"refund_request_source": "API",
	}
	if r.Status == wechatRefundSuccess {
		info.Set("success_time", r.Settled.In(chinatime.Location()).Format(time.DateTime))
	}
	// WeChat Pay's plaintext is a <root> element; gopay writes <xml>.
	plain := gopaywechat.GenerateXml(info)
	plain = "<root>" + strings.TrimSuffix(strings.TrimPrefix(plain, "<xml>"), "</xml>") + "</root>"
	reqInfo, err := wechatEncryptReqInfo([]byte(plain), w.APIKey)
	if err != nil {
		return nil, err
	}
	return gopay.BodyMap{
		"return_code": "SUCCESS",
		"appid":       w.AppID,
		"mch_id":      w.MchID,
		"nonce_str":   wechatRandomString(32),
		"req_info":    reqInfo,
	}, nil
}

// wechatEncryptReqInfo encrypts a v2 refund notification's req_info as
// WeChat Pay does: AES-256-ECB keyed with the lower-case hex MD5 of the API
// key (32 ASCII bytes), PKCS#7 padding, standard base64. Written here with
// the standard library because gopay, a client library, only decrypts
// (DecryptRefundNotifyReqInfo), so the channel's decryption is checked
// against another implementation; the standard library has no ECB mode,
// hence the loop over blocks.
func wechatEncryptReqInfo(plain []byte, apiKey string) (string, error) {
	if apiKey == "" {
		return "", errors.New("no API key")
	}
	sum := md5.Sum([]byte(apiKey))
	block, err := aes.NewCipher([]byte(hex.EncodeToString(sum[:])))
	if err != nil {
		return "", fmt.Errorf("req_info key: %w", err)
	}
	n := aes.BlockSize - len(plain)%aes.BlockSize
	buf := append(append([]byte(nil), plain...), bytes.Repeat([]byte{byte(n)}, n)...)
	for i := 0; i < len(buf); i += aes.BlockSize {
		block.Encrypt(buf[i:i+aes.BlockSize], buf[i:i+aes.BlockSize])
	}
	return base64.StdEncoding.EncodeToString(buf), nil
}

// wechatRefundSummaries are the summaries of v3 refund events, by status.
var wechatRefundSummaries = map[string]string{
	wechatRefundSuccess:  "退款成功",
	wechatRefundAbnormal: "退款异常",
	wechatRefundClosed:   "退款关闭",
}

// wechatV3RefundResource is the plaintext of a v3 refund notification's resource.
type wechatV3RefundResource struct {
	MchID               string `json:"mchid"`
	TransactionID       string `json:"transaction_id"`
	OutTradeNo          string `json:"out_trade_no"`
	RefundID            string `json:"refund_id"`
	OutRefundNo         string `json:"out_refund_no"`
	RefundStatus        string `json:"refund_status"`
	SuccessTime         string `json:"success_time,omitempty"`
	UserReceivedAccount string `json:"user_received_account"`
	Amount              struct {
		Total       int64 `json:"total"`
		Refund      int64 `json:"refund"`
		PayerTotal  int64 `json:"payer_total"`
		PayerRefund int64 `json:"payer_refund"`
	} `json:"amount"`
}

// refundNotificationV3 is the JSON event WeChat Pay posts about a refund:
// REFUND.SUCCESS, REFUND.ABNORMAL or REFUND.CLOSED, the refund encrypted
// as a payment's transaction is (original_type "refund").
func (w *WeChat) refundNotificationV3(r wechatRefund) ([]byte, error) {
	res := wechatV3RefundResource{
		MchID:               w.MchID,
		TransactionID:       r.TransactionID,
		OutTradeNo:          r.OutTradeNo,
		RefundID:            r.RefundID,
		OutRefundNo:         r.OutRefundNo,
		RefundStatus:        r.Status,
		UserReceivedAccount: "支付用户零钱",
	}
	if r.Status == wechatRefundSuccess {
		res.SuccessTime = r.Settled.In(chinatime.Location()).Format(time.RFC3339)
	}
	res.Amount.Total, res.Amount.Refund = r.Total, r.Amount
	res.Amount.PayerTotal, res.Amount.PayerRefund = r.Total, r.Amount
	return w.v3Event("REFUND."+r.Status, wechatRefundSummaries[r.Status], "refund", res)
}
