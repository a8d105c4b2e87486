package wechat

import (
	"crypto/rsa"
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"cashier"
)

func v2NotifyFields() map[string]string {
	return map[string]string{
		"return_code":    "SUCCESS",
		"appid":          testAppID,
		"mch_id":         testMchID,
		"nonce_str":      "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
		"result_code":    "SUCCESS",
		"openid":         "oUpF8uMEb4qRXf22hE3X68TekukE",
		"is_subscribe":   "N",
		"trade_type":     "APP",
		"bank_type":      "CMC",
		"total_fee":      "1234",
		"fee_type":       "CNY",
		"cash_fee":       "1234",
		"transaction_id": "4200000123202601021234567890",
		"out_trade_no":   "W2N0001",
		"attach":         "",
		"time_end":       "20260102110459",
	}
}

func TestVerifyNotificationV2(t *testing.T) {
	for _, signType := range []string{SignTypeMD5, SignTypeHMACSHA256} {
		t.Run(signType, func(t *testing.T) {
			cfg := testConfig(2, "")
			cfg.SignType = signType
			w := newTestWeChat(t, cfg)
			signed := func(change map[string]string) []byte {
				f := v2NotifyFields()
				maps.Copy(f, change)
				f["sign"] = testSignV2(f, testAPIKey, signType)
				return testXML(f)
			}
			valid := signed(nil)
			cases := []struct {
				name string
				body []byte
				code string
			}{
				{"valid", valid, ""},
				{"valid, sign_type stated", signed(map[string]string{"sign_type": signType}), ""},
				{"forged sign", []byte(strings.Replace(string(valid), "<sign><![CDATA[", "<sign><![CDATA[0", 1)), cashier.EFORBIDDEN},
				{"signed with another key", func() []byte {
					f := v2NotifyFields()
					f["sign"] = testSignV2(f, strings.Repeat("k", 32), signType)
					return testXML(f)
				}(), cashier.EFORBIDDEN},
				{"tampered total_fee", []byte(strings.Replace(string(valid), "<total_fee><![CDATA[1234]]>", "<total_fee><![CDATA[1]]>", 1)), cashier.EFORBIDDEN},
				{"no sign", testXML(v2NotifyFields()), cashier.EFORBIDDEN},
				{"other sign type", func() []byte {
					other := SignTypeMD5
					if signType == other {
						other = SignTypeHMACSHA256
					}
					f := v2NotifyFields()
					f["sign_type"] = other
					f["sign"] = testSignV2(f, testAPIKey, other)
					return testXML(f)
				}(), cashier.EFORBIDDEN},
				{"wrong mch_id", signed(map[string]string{"mch_id": "1900000110"}), cashier.EUNPROCESSABLE},
				{"wrong appid", signed(map[string]string{"appid": "wx9999999999999999"}), cashier.EUNPROCESSABLE},
				{"malformed total_fee", signed(map[string]string{"total_fee": "12.34"}), cashier.EINVALID},
				{"negative total_fee", signed(map[string]string{"total_fee": "-1"}), cashier.EINVALID},
				{"no out_trade_no", signed(map[string]string{"out_trade_no": ""}), cashier.EINVALID},
				{"bad time_end", signed(map[string]string{"time_end": "2026-01-02"}), cashier.EINVALID},
				{"return_code FAIL", signed(map[string]string{"return_code": "FAIL"}), cashier.EINVALID},
				{"bad XML", []byte("<xml><return_code>SUCCESS</return"), cashier.EINVALID},
				{"not XML", []byte(`{"return_code":"SUCCESS"}`), cashier.EINVALID},
				{"empty", nil, cashier.EINVALID},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					n, err := w.VerifyNotification(t.Context(), &cashier.InboundRequest{Method: "POST", Body: tc.body})
					wantCode(t, err, tc.code)
					if tc.code != "" {
						return
					}
					want := &cashier.Notification{
						OutTradeNo:     "W2N0001",
						ChannelTradeNo: "4200000123202601021234567890",
						Amount:         1234,
						Status:         cashier.NotifyPaid,
						PaidAt:         time.Date(2026, 1, 2, 3, 4, 59, 0, time.UTC),
						RawStatus:      "SUCCESS",
					}
					if !n.PaidAt.Equal(want.PaidAt) {
						t.Errorf("PaidAt %v, want %v", n.PaidAt, want.PaidAt)
					}
					n.PaidAt = want.PaidAt
					if !reflect.DeepEqual(n, want) {
						t.Errorf("notification %+v, want %+v", n, want)
					}
				})
			}
		})
	}
}

func TestVerifyNotificationV2Failed(t *testing.T) {
	w := newTestWeChat(t, testConfig(2, ""))
	f := v2NotifyFields()
	f["result_code"] = "FAIL"
	f["err_code"] = "PAYERROR"
	f["err_code_des"] = "支付失败"
	delete(f, "transaction_id")
	delete(f, "time_end")
	f["sign"] = testSignV2(f, testAPIKey, SignTypeMD5)
	n, err := w.VerifyNotification(t.Context(), &cashier.InboundRequest{Body: testXML(f)})
	if err != nil {
		t.Fatal(err)
	}
	if n.Status != cashier.NotifyFailed || n.Amount != 1234 || n.OutTradeNo != "W2N0001" || !n.PaidAt.IsZero() || n.RawStatus != "FAIL PAYERROR" {
		t.Errorf("notification %+v", n)
	}
}

// v3Transaction is a decrypted v3 payment resource.
func v3Transaction() map[string]any {
	return map[string]any{
		"appid":            testAppID,
		"mchid":            testMchID,
		"out_trade_no":     "W3N0001",
		"transaction_id":   "4200000123202601021234567891",
		"trade_type":       "APP",
		"trade_state":      "SUCCESS",
		"trade_state_desc": "支付成功",
		"bank_type":        "CMC",
		"attach":           "",
		"success_time":     "2026-01-02T11:04:59+08:00",
		"payer":            map[string]any{"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
		"amount":           map[string]any{"total": 1234, "payer_total": 1234, "currency": "CNY", "payer_currency": "CNY"},
	}
}

// v3Event encrypts txn into a notification body, as WeChat Pay does.
func v3Event(t *testing.T, key string, txn map[string]any) []byte {
	t.Helper()
	plain, err := json.Marshal(txn)
	if err != nil {
		t.Fatal(err)
	}
	const nonce, aad = "fdasflkja484", "transaction"
	body, err := json.Marshal(map[string]any{
		"id":            "EV-2018022511223320873",
		"create_time":   "2026-01-02T11:05:00+08:00",
		"resource_type": "encrypt-resource",
		"event_type":    "TRANSACTION.SUCCESS",
		"summary":       "支付成功",
		"resource": map[string]string{
			"original_type":   "transaction",
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

func TestVerifyNotificationV3(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC)
	cfg := testConfig(3, "")
	cfg.Now = func() time.Time { return now }
	const pubKeyID = "PUB_KEY_ID_0112345678202601020000000000000001"
	cfg.PlatformKeys[pubKeyID] = &otherKey().PublicKey
	w := newTestWeChat(t, cfg)

	with := func(change func(map[string]any)) []byte {
		txn := v3Transaction()
		if change != nil {
			change(txn)
		}
		return v3Event(t, testAPIv3Key, txn)
	}
	valid := with(nil)
	signedBy := func(key *rsa.PrivateKey, serial string, at time.Time, body []byte) map[string][]string {
		return testV3Headers(t, key, serial, at, body)
	}
	type msg struct {
		headers map[string][]string
		body    []byte
	}
	cases := []struct {
		name string
		msg  msg
		code string
	}{
		{"valid", msg{signedBy(platformKey(), testPlatformSerial, now, valid), valid}, ""},
		{"valid, 4 minutes old", msg{signedBy(platformKey(), testPlatformSerial, now.Add(-4*time.Minute), valid), valid}, ""},
		{"valid, WeChat Pay public key", msg{signedBy(otherKey(), pubKeyID, now, valid), valid}, ""},
		{"expired timestamp", msg{signedBy(platformKey(), testPlatformSerial, now.Add(-6*time.Minute), valid), valid}, cashier.EFORBIDDEN},
		{"future timestamp", msg{signedBy(platformKey(), testPlatformSerial, now.Add(6*time.Minute), valid), valid}, cashier.EFORBIDDEN},
		{"unknown serial", msg{signedBy(platformKey(), "0000000000000000000000000000000000000000", now, valid), valid}, cashier.EFORBIDDEN},
		{"key of another serial", msg{signedBy(platformKey(), pubKeyID, now, valid), valid}, cashier.EFORBIDDEN},
		{"tampered body", msg{signedBy(platformKey(), testPlatformSerial, now, valid), []byte(strings.Replace(string(valid), `"summary":"支付成功"`, `"summary":"支付成功 "`, 1))}, cashier.EFORBIDDEN},
		{"re-serialised body", msg{signedBy(platformKey(), testPlatformSerial, now, valid), append([]byte(" "), valid...)}, cashier.EFORBIDDEN},
		{"no signature", msg{map[string][]string{"Wechatpay-Serial": {testPlatformSerial}}, valid}, cashier.EFORBIDDEN},
		{"lower-case header names", msg{func() map[string][]string {
			h := map[string][]string{}
			for k, v := range signedBy(platformKey(), testPlatformSerial, now, valid) {
				h[strings.ToLower(k)] = v
			}
			return h
		}(), valid}, ""},
		{"wrong APIv3 key", func() msg {
			b := v3Event(t, strings.Repeat("k", 32), v3Transaction())
			return msg{signedBy(platformKey(), testPlatformSerial, now, b), b}
		}(), cashier.EFORBIDDEN},
		{"wrong mchid", func() msg {
			b := with(func(m map[string]any) { m["mchid"] = "1900000110" })
			return msg{signedBy(platformKey(), testPlatformSerial, now, b), b}
		}(), cashier.EUNPROCESSABLE},
		{"wrong appid", func() msg {
			b := with(func(m map[string]any) { m["appid"] = "wx9999999999999999" })
			return msg{signedBy(platformKey(), testPlatformSerial, now, b), b}
		}(), cashier.EUNPROCESSABLE},
		{"malformed total", func() msg {
			b := with(func(m map[string]any) { m["amount"] = map[string]any{"total": "1234"} })
			return msg{signedBy(platformKey(), testPlatformSerial, now, b), b}
		}(), cashier.EINVALID},
		{"paid without amount", func() msg {
			b := with(func(m map[string]any) { delete(m, "amount") })
			return msg{signedBy(platformKey(), testPlatformSerial, now, b), b}
		}(), cashier.EINVALID},
		{"unknown trade_state", func() msg {
			b := with(func(m map[string]any) { m["trade_state"] = "MAYBE" })
			return msg{signedBy(platformKey(), testPlatformSerial, now, b), b}
		}(), cashier.EINVALID},
		{"not JSON", func() msg {
			b := []byte("<xml></xml>")
			return msg{signedBy(platformKey(), testPlatformSerial, now, b), b}
		}(), cashier.EINVALID},
		{"refund notification carrying a transaction", func() msg {
			b := []byte(strings.Replace(string(valid), `"original_type":"transaction"`, `"original_type":"refund"`, 1))
			return msg{signedBy(platformKey(), testPlatformSerial, now, b), b}
		}(), cashier.EINVALID},
		{"neither payment nor refund", func() msg {
			b := []byte(strings.Replace(string(valid), `"original_type":"transaction"`, `"original_type":"profitsharing"`, 1))
			return msg{signedBy(platformKey(), testPlatformSerial, now, b), b}
		}(), cashier.EUNPROCESSABLE},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := w.VerifyNotification(t.Context(), &cashier.InboundRequest{Method: "POST", Headers: tc.msg.headers, Body: tc.msg.body})
			wantCode(t, err, tc.code)
			if tc.code != "" {
				return
			}
			want := cashier.Notification{
				OutTradeNo:     "W3N0001",
				ChannelTradeNo: "4200000123202601021234567891",
				Amount:         1234,
				Status:         cashier.NotifyPaid,
				RawStatus:      "SUCCESS",
			}
			if !n.PaidAt.Equal(time.Date(2026, 1, 2, 3, 4, 59, 0, time.UTC)) {
				t.Errorf("PaidAt %v", n.PaidAt)
			}
			n.PaidAt = time.Time{}
			if !reflect.DeepEqual(*n, want) {
				t.Errorf("notification %+v, want %+v", n, want)
			}
		})
	}
}

func TestV3TradeStates(t *testing.T) {
	now := time.Now()
	cfg := testConfig(3, "")
	w := newTestWeChat(t, cfg)
	for state, want := range map[string]cashier.NotifyStatus{
		"SUCCESS":    cashier.NotifyPaid,
		"NOTPAY":     cashier.NotifyPending,
		"USERPAYING": cashier.NotifyPending,
		"CLOSED":     cashier.NotifyClosed,
		"REVOKED":    cashier.NotifyClosed,
		"PAYERROR":   cashier.NotifyFailed,
	} {
		txn := v3Transaction()
		txn["trade_state"] = state
		if want != cashier.NotifyPaid {
			delete(txn, "transaction_id")
			delete(txn, "success_time")
		}
		body := v3Event(t, testAPIv3Key, txn)
		n, err := w.VerifyNotification(t.Context(), &cashier.InboundRequest{Headers: testV3Headers(t, platformKey(), testPlatformSerial, now, body), Body: body})
		if err != nil {
			t.Errorf("%s: %v", state, err)
			continue
		}
		if n.Status != want || n.RawStatus != state {
			t.Errorf("%s: status %q, raw %q", state, n.Status, n.RawStatus)
		}
	}
}

func TestReply(t *testing.T) {
	v2 := newTestWeChat(t, testConfig(2, ""))
	ok := v2.Reply(true)
	if ok.Status != http.StatusOK || ok.ContentType != "text/xml" ||
		string(ok.Body) != `<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>` {
		t.Errorf("v2 ok reply %d %q %s", ok.Status, ok.ContentType, ok.Body)
	}
	fail := v2.Reply(false)
	if fail.Status != http.StatusOK || !strings.Contains(string(fail.Body), "<return_code><![CDATA[FAIL]]></return_code>") {
		t.Errorf("v2 fail reply %d %s", fail.Status, fail.Body)
	}

	v3 := newTestWeChat(t, testConfig(3, ""))
	ok = v3.Reply(true)
	if ok.Status != http.StatusNoContent || len(ok.Body) != 0 {
		t.Errorf("v3 ok reply %d %s", ok.Status, ok.Body)
	}
	fail = v3.Reply(false)
	var body struct{ Code, Message string }
	if fail.Status != http.StatusInternalServerError || fail.ContentType != "application/json" ||
		json.Unmarshal(fail.Body, &body) != nil || body.Code != "FAIL" || body.Message == "" {
		t.Errorf("v3 fail reply %d %q %s", fail.Status, fail.ContentType, fail.Body)
	}
}
