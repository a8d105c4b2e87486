package signing

import (
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"
)

func readVector(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// WeChat Pay v2's MD5: the sorted pairs, "&key=", upper hex.
func TestWeChatV2Vectors(t *testing.T) {
	var v struct {
		Cases []struct {
			Fields map[string]string `json:"fields"`
			Key    string            `json:"key"`
			MD5    string            `json:"md5"`
		} `json:"cases"`
	}
	readVector(t, "wechat_v2_sign.json", &v)
	for i, c := range v.Cases {
		text := SortedPairs(c.Fields, "sign") + "&key=" + c.Key
		if got := strings.ToUpper(MD5Hex(text)); got != c.MD5 {
			t.Errorf("case %d: MD5 %s, want %s", i, got, c.MD5)
		}
	}
}

// iPayNow N001: the decoded pairs but signature, "&", the MD5 of the app key.
func TestIPayNowVector(t *testing.T) {
	var v struct {
		AppKey string `json:"app_key"`
		Body   string `json:"body"`
	}
	readVector(t, "ipaynow_notify.json", &v)
	form, err := url.ParseQuery(v.Body)
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for k := range form {
		fields[k] = form.Get(k)
	}
	got := MD5Hex(SortedPairs(fields, "signature") + "&" + MD5Hex(v.AppKey))
	if !EqualHex(got, fields["signature"]) {
		t.Errorf("signature %s, want %s", got, fields["signature"])
	}
	fields["mhtOrderAmt"] = "2"
	if EqualHex(MD5Hex(SortedPairs(fields, "signature")+"&"+MD5Hex(v.AppKey)), fields["signature"]) {
		t.Error("a changed amount still verifies")
	}
}

func TestSortedPairsSkipsEmptyAndNamed(t *testing.T) {
	got := SortedPairs(map[string]string{"b": "2", "a": "1", "sign": "x", "empty": "", "c": "a=b&c"}, "sign")
	if got != "a=1&b=2&c=a=b&c" {
		t.Errorf("%q", got)
	}
	if EqualHex("ABCD", "abce") || !EqualHex("ABCD", "abcd") {
		t.Error("EqualHex")
	}
}
