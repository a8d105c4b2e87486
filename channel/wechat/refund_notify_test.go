package wechat

import (
	"bytes"
	"crypto/aes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	"cashier"
)

// testReqInfo encrypts a v2 refund notification's req_info as WeChat Pay
// does: the <root> XML of fields, PKCS#7, AES-256-ECB keyed with the lower
// hex MD5 of apiKey, base64.
func testReqInfo(t *testing.T, apiKey string, fields map[string]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("<root>")
	for k, v := range fields {
		b.WriteString("<" + k + "><![CDATA[" + v + "]]></" + k + ">")
	}
	b.WriteString("</root>")
	sum := md5.Sum([]byte(apiKey))
	block, err := aes.NewCipher([]byte(hex.EncodeToString(sum[:])))
	if err != nil {
		t.Fatal(err)
	}
	pad := aes.BlockSize - b.Len()%aes.BlockSize
	buf := append([]byte(b.String()), bytes.Repeat([]byte{byte(pad)}, pad)...)
	for i := 0; i < len(buf); i += aes.BlockSize {
		block.Encrypt(buf[i:i+aes.BlockSize], buf[i:i+aes.BlockSize])
	}
	return base64.StdEncoding.EncodeToString(buf)
}

func v2RefundInfo() map[string]string {
	return map[string]string{
		"transaction_id":        "4200000123202601021234567890",
		"out_trade_no":          "W2N0001",
		"refund_id":             "50000408942026010212345678901",
		"out_refund_no":         "W2N0001-R1",
		"total_fee":             "1234",
		"settlement_total_fee":  "1234",
		"refund_fee":            "1000",
		"settlement_refund_fee": "1000",
		"refund_status":         "SUCCESS",
		"success_time":          "2026-01-02 11:04:59",
		"refund_recv_accout":    "支付用户的零钱",
		"refund_account":        "REFUND_SOURCE_RECHARGE_FUNDS",
		"refund_request_source": "API",
	}
}

func TestVerifyRefundNotificationV2(t *testing.T) {
	w := newTestWeChat(t, testConfig(2, ""))
	body := func(key string, outer, info map[string]string) []byte {
		f := map[string]string{
			"return_code": "SUCCESS",
			"appid":       testAppID,
			"mch_id":      testMchID,
			"nonce_str":   "TeqClE3i0mvn3DrK",
			"req_info":    testReqInfo(t, key, info),
		}
		maps.Copy(f, outer)
		return testXML(f)
	}
	info := func(change map[string]string) map[string]string {
		f := v2RefundInfo()
		maps.Copy(f, change)
		for k, v := range change {
			if v == "-" {
				delete(f, k)
			}
		}
		return f
	}
	want := cashier.RefundResult{OutTradeNo: "W2N0001", OutRefundNo: "W2N0001-R1", ChannelRefundNo: "50000408942026010212345678901", Status: cashier.RefundSucceeded, Amount: 1000}
	cases := []struct {
		name   string
		body   []byte
		code   string
		status cashier.RefundStatus
		amount int64
	}{
		{"valid", body(testAPIKey, nil, info(nil)), "", cashier.RefundSucceeded, 1000},
		{"CHANGE", body(testAPIKey, nil, info(map[string]string{"refund_status": "CHANGE", "success_time": "-"})), "", cashier.RefundFailed, 1000},
		{"REFUNDCLOSE", body(testAPIKey, nil, info(map[string]string{"refund_status": "REFUNDCLOSE", "success_time": "-"})), "", cashier.RefundFailed, 1000},
		{"settlement_refund_fee only", body(testAPIKey, nil, info(map[string]string{"refund_fee": "-", "settlement_refund_fee": "900"})), "", cashier.RefundSucceeded, 900},
		{"encrypted with another key", body(strings.Repeat("k", 32), nil, info(nil)), cashier.EFORBIDDEN, "", 0},
		{"req_info not base64", body(testAPIKey, map[string]string{"req_info": "%%%"}, info(nil)), cashier.EFORBIDDEN, "", 0},
		{"req_info cut", body(testAPIKey, map[string]string{"req_info": testReqInfo(t, testAPIKey, info(nil))[:40]}, nil), cashier.EFORBIDDEN, "", 0},
		{"wrong mch_id", body(testAPIKey, map[string]string{"mch_id": "1900000110"}, info(nil)), cashier.EUNPROCESSABLE, "", 0},
		{"wrong appid", body(testAPIKey, map[string]string{"appid": "wx9999999999999999"}, info(nil)), cashier.EUNPROCESSABLE, "", 0},
		{"return_code FAIL", body(testAPIKey, map[string]string{"return_code": "FAIL"}, info(nil)), cashier.EINVALID, "", 0},
		{"unknown refund_status", body(testAPIKey, nil, info(map[string]string{"refund_status": "MAYBE"})), cashier.EINVALID, "", 0},
		{"no out_refund_no", body(testAPIKey, nil, info(map[string]string{"out_refund_no": "-"})), cashier.EINVALID, "", 0},
		{"no refund_id", body(testAPIKey, nil, info(map[string]string{"refund_id": "-"})), cashier.EINVALID, "", 0},
		{"no amount", body(testAPIKey, nil, info(map[string]string{"refund_fee": "-", "settlement_refund_fee": "-"})), cashier.EINVALID, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := w.VerifyNotification(t.Context(), &cashier.InboundRequest{Method: "POST", Body: tc.body})
			wantCode(t, err, tc.code)
			if tc.code != "" {
				if strings.Contains(err.Error(), testAPIKey) {
					t.Errorf("error %q carries the key", err)
				}
				return
			}
			want := want
			want.Status, want.Amount = tc.status, tc.amount
			if tc.status == cashier.RefundFailed {
				if n.Refund == nil || n.Refund.Detail == "" {
					t.Fatalf("failed refund without detail: %+v", n.Refund)
				}
				want.Detail = n.Refund.Detail
			}
			if n.Refund == nil || *n.Refund != want || n.OutTradeNo != "W2N0001" || n.ChannelTradeNo != "4200000123202601021234567890" || n.RawStatus == "" {
				t.Errorf("notification %+v, refund %+v", n, n.Refund)
			}
		})
	}
}

// v3RefundResource is a decrypted v3 refund resource.
func v3RefundResource() map[string]any {
	return map[string]any{
		"mchid":                 testMchID,
		"transaction_id":        "4200000123202601021234567891",
		"out_trade_no":          "W3N0001",
		"refund_id":             "50000408942026010212345678902",
		"out_refund_no":         "W3N0001-R1",
		"refund_status":         "SUCCESS",
		"success_time":          "2026-01-02T11:04:59+08:00",
		"user_received_account": "招商银行信用卡0403",
		"amount":                map[string]any{"total": 1234, "refund": 1000, "payer_total": 1234, "payer_refund": 1000},
	}
}

// v3RefundEvent encrypts res into a refund notification body, as WeChat Pay does.
func v3RefundEvent(t *testing.T, key, eventType, originalType string, res map[string]any) []byte {
	t.Helper()
	plain, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	const nonce, aad = "fdasflkja484", "refund"
	body, err := json.Marshal(map[string]any{
		"id":            "EV-2018022511223320874",
		"create_time":   "2026-01-02T11:05:00+08:00",
		"resource_type": "encrypt-resource",
		"event_type":    eventType,
		"summary":       "退款成功",
		"resource": map[string]string{
			"original_type":   originalType,
			"algorithm":       "AEAD_AES_256_GCM",
			"ciphertext":      testSeal(t, key, nonce, aad, string(plain)),
			"associated_data": aad,
			"nonce":           nonce,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func TestVerifyRefundNotificationV3(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC)
	cfg := testConfig(3, "")
	cfg.Now = func() time.Time { return now }
	w := newTestWeChat(t, cfg)
	with := func(change func(map[string]any)) []byte {
		res := v3RefundResource()
		if change != nil {
			change(res)
		}
		return v3RefundEvent(t, testAPIv3Key, "REFUND.SUCCESS", "refund", res)
	}
	signed := func(at time.Time, b []byte) map[string][]string {
		return testV3Headers(t, platformKey(), testPlatformSerial, at, b)
	}
	valid := with(nil)
	type msg struct {
		headers map[string][]string
		body    []byte
	}
	cases := []struct {
		name   string
		msg    msg
		code   string
		status cashier.RefundStatus
	}{
		{"valid", msg{signed(now, valid), valid}, "", cashier.RefundSucceeded},
		{"valid, 4 minutes old", msg{signed(now.Add(-4*time.Minute), valid), valid}, "", cashier.RefundSucceeded},
		{"ABNORMAL", func() msg {
			b := v3RefundEvent(t, testAPIv3Key, "REFUND.ABNORMAL", "refund", func() map[string]any {
				r := v3RefundResource()
				r["refund_status"] = "ABNORMAL"
				delete(r, "success_time")
				return r
			}())
			return msg{signed(now, b), b}
		}(), "", cashier.RefundFailed},
		{"CLOSED", func() msg {
			b := with(func(r map[string]any) { r["refund_status"] = "CLOSED" })
			return msg{signed(now, b), b}
		}(), "", cashier.RefundFailed},
		{"no original_type, REFUND event", func() msg {
			b := v3RefundEvent(t, testAPIv3Key, "REFUND.SUCCESS", "", v3RefundResource())
			return msg{signed(now, b), b}
		}(), "", cashier.RefundSucceeded},
		{"stale", msg{signed(now.Add(-6*time.Minute), valid), valid}, cashier.EFORBIDDEN, ""},
		{"from the future", msg{signed(now.Add(6*time.Minute), valid), valid}, cashier.EFORBIDDEN, ""},
		{"tampered", msg{signed(now, valid), []byte(strings.Replace(string(valid), `"REFUND.SUCCESS"`, `"REFUND.CLOSED"`, 1))}, cashier.EFORBIDDEN, ""},
		{"signed by another key", msg{testV3Headers(t, otherKey(), testPlatformSerial, now, valid), valid}, cashier.EFORBIDDEN, ""},
		{"unsigned", msg{nil, valid}, cashier.EFORBIDDEN, ""},
		{"wrong APIv3 key", func() msg {
			b := v3RefundEvent(t, strings.Repeat("k", 32), "REFUND.SUCCESS", "refund", v3RefundResource())
			return msg{signed(now, b), b}
		}(), cashier.EFORBIDDEN, ""},
		{"wrong mchid", func() msg {
			b := with(func(r map[string]any) { r["mchid"] = "1900000110" })
			return msg{signed(now, b), b}
		}(), cashier.EUNPROCESSABLE, ""},
		{"no amount", func() msg {
			b := with(func(r map[string]any) { delete(r, "amount") })
			return msg{signed(now, b), b}
		}(), cashier.EINVALID, ""},
		{"unknown refund_status", func() msg {
			b := with(func(r map[string]any) { r["refund_status"] = "MAYBE" })
			return msg{signed(now, b), b}
		}(), cashier.EINVALID, ""},
		{"empty resource", func() msg {
			b := v3RefundEvent(t, testAPIv3Key, "REFUND.SUCCESS", "refund", nil)
			return msg{signed(now, b), b}
		}(), cashier.EINVALID, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := w.VerifyNotification(t.Context(), &cashier.InboundRequest{Method: "POST", Headers: tc.msg.headers, Body: tc.msg.body})
			wantCode(t, err, tc.code)
			if tc.code != "" {
				return
			}
			r := n.Refund
			if r == nil || r.Status != tc.status || r.OutTradeNo != "W3N0001" || r.OutRefundNo != "W3N0001-R1" ||
				r.ChannelRefundNo != "50000408942026010212345678902" || r.Amount != 1000 || (r.Status == cashier.RefundFailed) != (r.Detail != "") {
				t.Errorf("refund %+v", r)
			}
			if n.OutTradeNo != "W3N0001" || n.ChannelTradeNo != "4200000123202601021234567891" {
				t.Errorf("notification %+v", n)
			}
		})
	}
}
