package wechat

import (
	"crypto/rsa"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"cashier"
	"cashier/sandbox"
)

// closedPort is a loopback address nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestUpstreamFaults(t *testing.T) {
	for _, version := range []int{2, 3} {
		t.Run(fmt.Sprint("v", version), func(t *testing.T) {
			t.Run("closed port", func(t *testing.T) {
				w := newTestWeChat(t, testConfig(version, "http://"+closedPort(t)+"/sandbox/wechat"))
				_, err := w.Prepare(t.Context(), prepareRequest("app", "WFCLOSED"))
				wantChannelError(t, err, "WeChat Pay is not reachable")
				_, err = w.Query(t.Context(), cashier.Trade{OutTradeNo: "WFCLOSED"})
				wantChannelError(t, err, "WeChat Pay is not reachable")
				wantChannelError(t, w.Close(t.Context(), cashier.Trade{OutTradeNo: "WFCLOSED"}), "WeChat Pay is not reachable")
			})

			for _, tc := range []struct {
				name     string
				fault    sandbox.Fault
				contains string
			}{
				{"500", sandbox.Fault{HTTPStatus: http.StatusInternalServerError}, "HTTP 500"},
				{"503", sandbox.Fault{HTTPStatus: http.StatusServiceUnavailable}, "HTTP 503"},
				{"return_code FAIL", sandbox.Fault{ReturnCode: "FAIL", ReturnMsg: "系统繁忙，请稍后再试"}, "系统繁忙"},
				{"ORDERPAID", sandbox.Fault{ErrCode: "ORDERPAID", ErrCodeDes: "该订单已支付"}, "ORDERPAID 该订单已支付"},
				{"OUT_TRADE_NO_USED", sandbox.Fault{ErrCode: "OUT_TRADE_NO_USED", ErrCodeDes: "商户订单号重复"}, "OUT_TRADE_NO_USED"},
			} {
				if version == 3 && tc.fault.ReturnCode != "" {
					continue // v2 only
				}
				t.Run(tc.name, func(t *testing.T) {
					w := newWorld(t, version, "")
					w.sandbox.Faults().Inject(sandbox.OpPrepare, 1, tc.fault)
					_, err := w.ch.Prepare(t.Context(), w.request("app", "WF"+fmt.Sprint(version)))
					wantChannelError(t, err, tc.contains)
					// The fault was for one call only.
					if _, err := w.ch.Prepare(t.Context(), w.request("app", "WF"+fmt.Sprint(version))); err != nil {
						t.Errorf("after the fault: %v", err)
					}
				})
			}

			t.Run("slow server", func(t *testing.T) {
				w := newWorld(t, version, "", func(c *Config) {
					hc := *c.HTTPClient
					hc.Timeout = 100 * time.Millisecond
					c.HTTPClient = &hc
				})
				w.sandbox.Faults().Inject(sandbox.OpPrepare, 1, sandbox.Fault{Delay: 5 * time.Second})
				start := time.Now()
				_, err := w.ch.Prepare(t.Context(), w.request("scan", "WFSLOW"))
				wantChannelError(t, err, "did not answer in time")
				if d := time.Since(start); d > 2*time.Second {
					t.Errorf("gave up after %v", d)
				}
			})

			t.Run("query and close refusals", func(t *testing.T) {
				w := newWorld(t, version, "")
				w.sandbox.Faults().Inject(sandbox.OpQuery, 0, sandbox.Fault{HTTPStatus: http.StatusBadGateway})
				_, err := w.ch.Query(t.Context(), cashier.Trade{OutTradeNo: "WFQ"})
				wantChannelError(t, err, "HTTP 502")
				w.sandbox.Faults().Inject(sandbox.OpClose, 0, sandbox.Fault{ErrCode: "SYSTEMERROR", ErrCodeDes: "系统错误"})
				wantChannelError(t, w.ch.Close(t.Context(), cashier.Trade{OutTradeNo: "WFQ"}), "SYSTEMERROR")
				_, err = w.ch.Query(t.Context(), cashier.Trade{OutTradeNo: "WFQ"})
				wantChannelError(t, err, "HTTP 502") // until ClearFaults
				w.sandbox.Faults().Clear()
				_, err = w.ch.Query(t.Context(), cashier.Trade{OutTradeNo: "WFQ"})
				wantCode(t, err, cashier.ENOTFOUND)
			})
		})
	}
}

func TestAnswerSignatureChecked(t *testing.T) {
	t.Run("v3 answer signed with another key", func(t *testing.T) {
		w := newWorld(t, 3, "", func(c *Config) {
			c.PlatformKeys = map[string]*rsa.PublicKey{testPlatformSerial: &otherKey().PublicKey}
		})
		_, err := w.ch.Prepare(t.Context(), w.request("app", "WFSIG1"))
		wantChannelError(t, err, "could not be verified")
		// A refusal that would be acted upon must verify too.
		_, err = w.ch.Query(t.Context(), cashier.Trade{OutTradeNo: "WFSIG2"})
		wantChannelError(t, err, "ORDER_NOT_EXIST")
		wantChannelError(t, w.ch.Close(t.Context(), cashier.Trade{OutTradeNo: "WFSIG2"}), "ORDER_NOT_EXIST")
	})
	t.Run("v3 answer from an unknown serial", func(t *testing.T) {
		w := newWorld(t, 3, "", func(c *Config) {
			c.PlatformKeys = map[string]*rsa.PublicKey{"PUB_KEY_ID_OTHER": &platformKey().PublicKey}
		})
		_, err := w.ch.Prepare(t.Context(), w.request("scan", "WFSIG3"))
		wantChannelError(t, err, "could not be verified")
	})
	t.Run("v3 answer outside the clock window", func(t *testing.T) {
		w := newWorld(t, 3, "", func(c *Config) {
			c.Now = func() time.Time { return time.Now().Add(10 * time.Minute) }
		})
		_, err := w.ch.Prepare(t.Context(), w.request("wap", "WFSIG4"))
		wantChannelError(t, err, "could not be verified")
	})
	t.Run("v2 answer signed with another key", func(t *testing.T) {
		// WeChat Pay's answer, re-signed with a key that is not the merchant's.
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			f := map[string]string{
				"return_code": "SUCCESS", "return_msg": "OK", "appid": testAppID, "mch_id": testMchID,
				"nonce_str": "IITRi8Iabbblz1Jc", "result_code": "SUCCESS", "prepay_id": "wx201411101639507cbf6ffd8b0779950874",
				"trade_type": "APP",
			}
			f["sign"] = testSignV2(f, "00000000000000000000000000000000", SignTypeMD5)
			rw.Write(testXML(f))
		}))
		defer srv.Close()
		w := newTestWeChat(t, testConfig(2, srv.URL))
		_, err := w.Prepare(t.Context(), prepareRequest("app", "WFSIG5"))
		wantChannelError(t, err, "could not be verified")
	})
	t.Run("v2 answer not XML", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			rw.Write([]byte("<html><body>gateway error</body></html>"))
		}))
		defer srv.Close()
		w := newTestWeChat(t, testConfig(2, srv.URL))
		_, err := w.Prepare(t.Context(), prepareRequest("app", "WFSIG6"))
		wantChannelError(t, err, "WeChat Pay's answer to unifiedorder")
	})
	t.Run("v2 request signed with another key", func(t *testing.T) {
		w := newWorld(t, 2, "", func(c *Config) { c.APIKey = "ffffffffffffffffffffffffffffffff" })
		_, err := w.ch.Prepare(t.Context(), w.request("app", "WFSIG7"))
		wantChannelError(t, err, "签名错误")
	})
	t.Run("v3 request signed with another key", func(t *testing.T) {
		w := newWorld(t, 3, "", func(c *Config) { c.PrivateKey = otherKey() })
		_, err := w.ch.Prepare(t.Context(), w.request("app", "WFSIG8"))
		wantChannelError(t, err, "SIGN_ERROR")
	})
}

func TestNothingLeavesBaseURL(t *testing.T) {
	var sent []string
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent = append(sent, r.URL.String())
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
	})}
	u, _ := url.Parse("http://127.0.0.1:9/sandbox/wechat")
	c := upstreamClient(hc, u).HttpClient
	for _, target := range []string{
		"https://api.mch.weixin.qq.com/pay/unifiedorder",
		"https://127.0.0.1:9/sandbox/wechat/pay/unifiedorder",
		"http://127.0.0.1:9/sandbox/wechatpay/unifiedorder",
		"http://127.0.0.1:9/pay/unifiedorder",
	} {
		if resp, err := c.Post(target, "text/xml", nil); err == nil {
			resp.Body.Close()
			t.Errorf("a request to %s went through", target)
		}
	}
	if len(sent) != 0 {
		t.Fatalf("sent %v", sent)
	}
	// Under BaseURL, calls go through unchanged.
	resp, err := c.Post("http://127.0.0.1:9/sandbox/wechat/pay/unifiedorder", "text/xml", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(sent) != 1 || sent[0] != "http://127.0.0.1:9/sandbox/wechat/pay/unifiedorder" {
		t.Errorf("sent %v", sent)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
