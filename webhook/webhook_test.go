package webhook_test

import (
	"strings"
	"testing"
	"time"

	"cashier/webhook"
)

func TestSignAndVerify(t *testing.T) {
	now := time.Unix(1795456000, 0)
	body := []byte(`{"id":"evt_1","type":"order.paid"}`)
	h := webhook.Sign("whsec_test", now, body)
	if !strings.HasPrefix(h, "t=1795456000,v1=") || len(h) != len("t=1795456000,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	if err := webhook.Verify("whsec_test", h, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("verify: %v", err)
	}
	bad := []struct {
		name, secret, header string
		body                 []byte
		now                  time.Time
	}{
		{"another secret", "whsec_other", h, body, now},
		{"changed body", "whsec_test", h, []byte(`{"id":"evt_1","type":"order.closed"}`), now},
		{"too old", "whsec_test", h, body, now.Add(6 * time.Minute)},
		{"from the future", "whsec_test", h, body, now.Add(-6 * time.Minute)},
		{"no v1", "whsec_test", "t=1795456000", body, now},
		{"garbage", "whsec_test", "nonsense", body, now},
		{"changed timestamp", "whsec_test", strings.Replace(h, "t=1795456000", "t=1795456001", 1), body, now},
	}
	for _, c := range bad {
		if err := webhook.Verify(c.secret, c.header, c.body, c.now, 5*time.Minute); err == nil {
			t.Errorf("%s: verified", c.name)
		}
	}
}
