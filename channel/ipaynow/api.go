package ipaynow

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"cashier"
)

// maxAnswer bounds what is read of an answer; iPayNow's are a few hundred
// bytes.
const maxAnswer = 64 << 10

// call posts a signed form to endpoint and returns the answer's fields once
// its signature checks out (signType signed too where withSignType is set).
// No answer, an HTTP error and an answer that does not verify are ECHANNEL.
func (c *IPayNow) call(ctx context.Context, op, endpoint string, fields map[string]string, withSignType bool) (map[string]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(encode(fields)))
	if err != nil {
		return nil, cashier.WrapError(err, cashier.EINTERNAL, "could not build the iPayNow request")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		c.log.WarnContext(ctx, "ipaynow: unreachable", "op", op, "err", err)
		var urlErr *url.Error
		if errors.As(err, &urlErr) && urlErr.Timeout() {
			return nil, cashier.WrapError(err, cashier.ECHANNEL, "iPayNow did not answer in time")
		}
		return nil, cashier.WrapError(err, cashier.ECHANNEL, "iPayNow is not reachable")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, cashier.WrapError(err, cashier.ECHANNEL, "iPayNow's answer could not be read")
	}
	if resp.StatusCode != http.StatusOK {
		c.log.WarnContext(ctx, "ipaynow: HTTP error", "op", op, "status", resp.StatusCode)
		return nil, cashier.Errorf(cashier.ECHANNEL, "iPayNow answered HTTP %d to %s", resp.StatusCode, op)
	}
	ans, err := form(string(body))
	if err != nil || len(ans) == 0 {
		return nil, cashier.Errorf(cashier.ECHANNEL, "iPayNow's answer to %s is malformed", op)
	}
	if !verify(c.cfg.AppKey, ans, "signature", withSignType) {
		// An unsigned refusal is still reported, never acted upon.
		c.log.WarnContext(ctx, "ipaynow: answer does not verify", "op", op, "response_code", ans["responseCode"], "response_msg", ans["responseMsg"])
		return nil, cashier.Errorf(cashier.ECHANNEL, "iPayNow's answer to %s could not be verified (%s %s)", op, ans["responseCode"], ans["responseMsg"])
	}
	if ans["appId"] != "" && ans["appId"] != c.cfg.AppID {
		return nil, cashier.Errorf(cashier.ECHANNEL, "iPayNow's answer to %s is for app %s", op, ans["appId"])
	}
	return ans, nil
}

// notFound says whether a verified refusal means that iPayNow has no such
// order or refund. The public material does not list the codes: its
// messages say 不存在 ("does not exist"). Uncertain: kept in this one place.
func notFound(ans map[string]string) bool {
	return strings.Contains(ans["responseMsg"], "不存在") || strings.Contains(strings.ToLower(ans["responseMsg"]), "not exist")
}
