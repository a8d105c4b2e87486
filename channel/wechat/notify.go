package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	gopaywechat "github.com/go-pay/gopay/wechat"
	gopaywechat3 "github.com/go-pay/gopay/wechat/v3"

	"cashier"
)

// What v3 payment notifications carry (refund ones: v3RefundOriginalType).
const (
	v3Algorithm    = "AEAD_AES_256_GCM"
	v3OriginalType = "transaction"
)

// VerifyNotification verifies a notification in the configured API version
// and reports what it says: about a payment, or, with Refund set, about a
// refund (v2: the message carries req_info; v3: its resource is a
// "refund"; Status is then empty). The body is decoded once, and v3
// signatures are checked over its raw bytes, refunds' as payments'.
func (w *WeChat) VerifyNotification(ctx context.Context, msg *cashier.InboundRequest) (*cashier.Notification, error) {
	if msg == nil || len(msg.Body) == 0 {
		return nil, cashier.Errorf(cashier.EINVALID, "empty wechat notification")
	}
	var (
		n   *cashier.Notification
		err error
	)
	if w.version == 3 {
		n, err = w.verifyNotificationV3(msg)
	} else {
		n, err = w.verifyNotificationV2(msg)
	}
	if err != nil {
		w.log.DebugContext(ctx, "wechat: notification rejected", "err", err)
		return nil, err
	}
	if n.Refund != nil {
		w.log.InfoContext(ctx, "wechat: refund notification verified", "out_trade_no", n.OutTradeNo, "out_refund_no", n.Refund.OutRefundNo, "refund_status", n.RawStatus, "refund_id", n.Refund.ChannelRefundNo)
		return n, nil
	}
	w.log.InfoContext(ctx, "wechat: notification verified", "out_trade_no", n.OutTradeNo, "status", n.RawStatus, "transaction_id", n.ChannelTradeNo)
	return n, nil
}

// verifyNotificationV2 checks an XML notification: the signature, then that
// it is for this merchant. result_code SUCCESS is paid, anything else a
// failed payment.
func (w *WeChat) verifyNotificationV2(msg *cashier.InboundRequest) (*cashier.Notification, error) {
	fields, err := parseV2(msg.Body)
	if err != nil {
		return nil, cashier.WrapError(err, cashier.EINVALID, "malformed wechat notification: not an XML message")
	}
	// Refund notifications carry req_info, encrypted, and no sign.
	if fields.GetString("req_info") != "" {
		return w.verifyRefundNotificationV2(fields)
	}
	// WeChat Pay signs a notification the way the order was signed and, as
	// a rule, does not say how: a missing sign_type means the configured
	// one. A stated one must be it, so that nobody picks the weaker MD5.
	signType := fields.GetString("sign_type")
	if signType == "" {
		signType = w.signType
	}
	if signType != w.signType {
		return nil, cashier.Errorf(cashier.EFORBIDDEN, "wechat notification signed with %s, configured is %s", signType, w.signType)
	}
	if err := w.verifyV2(fields, signType); err != nil {
		return nil, cashier.WrapError(err, cashier.EFORBIDDEN, "wechat notification signature does not verify")
	}
	if rc := fields.GetString("return_code"); rc != codeSuccess {
		return nil, cashier.Errorf(cashier.EINVALID, "wechat notification has return_code %q", rc)
	}
	if err := w.checkMerchant(fields.GetString("appid"), fields.GetString("mch_id")); err != nil {
		return nil, err
	}
	status, raw := cashier.NotifyFailed, fields.GetString("result_code")
	if raw == codeSuccess {
		status = cashier.NotifyPaid
	} else if ec := fields.GetString("err_code"); ec != "" {
		raw += " " + ec
	}
	n, err := w.v2Notification(fields, status, raw)
	if err != nil {
		return nil, cashier.WrapError(err, cashier.EINVALID, "malformed wechat notification: "+err.Error())
	}
	return n, nil
}

// verifyNotificationV3 checks a JSON notification: the headers' signature
// over the raw body, then decrypts the resource with the APIv3 key and
// checks that it is for this merchant.
func (w *WeChat) verifyNotificationV3(msg *cashier.InboundRequest) (*cashier.Notification, error) {
	if err := w.verifyV3(canonicalHeader(msg.Headers), msg.Body); err != nil {
		return nil, cashier.WrapError(err, cashier.EFORBIDDEN, "wechat notification could not be verified: "+err.Error())
	}
	// gopay's V3ParseNotify reads an *http.Request; the body is already here.
	var note gopaywechat3.V3NotifyReq
	if err := json.Unmarshal(msg.Body, &note); err != nil {
		return nil, cashier.WrapError(err, cashier.EINVALID, "malformed wechat notification: not a JSON event")
	}
	res := note.Resource
	if res == nil || res.Ciphertext == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "malformed wechat notification: no resource")
	}
	refund := res.OriginalType == v3RefundOriginalType || (res.OriginalType == "" && strings.HasPrefix(note.EventType, "REFUND."))
	if !refund && res.OriginalType != "" && res.OriginalType != v3OriginalType {
		return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "wechat notification %s (%s) is not about a payment or a refund", note.EventType, res.OriginalType)
	}
	if res.Algorithm != v3Algorithm {
		return nil, cashier.Errorf(cashier.EINVALID, "wechat notification resource uses %q, not %s", res.Algorithm, v3Algorithm)
	}
	if refund {
		return w.verifyRefundNotificationV3(&note)
	}
	plain, err := decryptResource(res, w.apiV3Key)
	if err != nil {
		// The signature holds, so WeChat Pay sent it: the APIv3 key is not
		// the one in the merchant console.
		return nil, cashier.WrapError(err, cashier.EFORBIDDEN, "wechat notification resource does not decrypt: check the APIv3 key")
	}
	var t gopaywechat3.V3DecryptPayResult
	if err := json.Unmarshal(plain, &t); err != nil {
		return nil, cashier.WrapError(err, cashier.EINVALID, "malformed wechat notification: the transaction is not readable")
	}
	if err := w.checkMerchant(t.Appid, t.Mchid); err != nil {
		return nil, err
	}
	n, err := v3Notification(&t)
	if err != nil {
		return nil, cashier.WrapError(err, cashier.EINVALID, "malformed wechat notification: "+err.Error())
	}
	return n, nil
}

// decryptResource opens a v3 resource: AEAD_AES_256_GCM with the APIv3 key
// (gopay's), nonce and associated_data as sent, the tag after the ciphertext.
func decryptResource(res *gopaywechat3.Resource, apiV3Key string) ([]byte, error) {
	plain, err := gopaywechat3.V3DecryptNotifyCipherTextToBytes(res.Ciphertext, res.Nonce, res.AssociatedData, apiV3Key)
	if err != nil {
		return nil, errors.New("resource does not decrypt")
	}
	return plain, nil
}

// checkMerchant refuses a genuine message meant for another app or merchant.
func (w *WeChat) checkMerchant(appID, mchID string) error {
	if appID != w.appID {
		return cashier.Errorf(cashier.EUNPROCESSABLE, "wechat notification is for appid %q, not this merchant's", appID)
	}
	if mchID != w.mchID {
		return cashier.Errorf(cashier.EUNPROCESSABLE, "wechat notification is for mch_id %q, not this merchant's", mchID)
	}
	return nil
}

// canonicalHeader makes sure header names are in canonical form, whoever
// filled msg.Headers.
func canonicalHeader(h map[string][]string) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		out[http.CanonicalHeaderKey(k)] = append(out[http.CanonicalHeaderKey(k)], vs...)
	}
	return out
}

// v3ReplyFail is the body of a v3 "resend later"; WeChat Pay reads the
// status, the body is for people.
var v3ReplyFail = []byte(`{"code":"FAIL","message":"失败"}`)

// Reply is the answer WeChat Pay expects to a notification. v2: the SUCCESS
// or FAIL XML (gopay's NotifyResponse), always HTTP 200. v3: 204 with no body
// to stop the resending, 500 with the {code, message} JSON to have it resent.
func (w *WeChat) Reply(ok bool) cashier.NotifyReply {
	if w.version == 3 {
		if ok {
			return cashier.NotifyReply{Status: http.StatusNoContent}
		}
		return cashier.NotifyReply{Status: http.StatusInternalServerError, ContentType: "application/json", Body: v3ReplyFail}
	}
	r := gopaywechat.NotifyResponse{ReturnCode: codeSuccess, ReturnMsg: "OK"}
	if !ok {
		r = gopaywechat.NotifyResponse{ReturnCode: codeFail, ReturnMsg: codeFail}
	}
	return cashier.NotifyReply{Status: http.StatusOK, ContentType: "text/xml", Body: []byte(r.ToXmlString())}
}
