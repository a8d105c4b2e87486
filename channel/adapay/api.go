package adapay

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"cashier"
)

// maxAnswer bounds what is read of an answer.
const maxAnswer = 256 << 10

// signRequest is the Signature header of a request: base64 SHA1withRSA by
// the merchant's key over the URL and the body as sent (POST), or the URL
// and the sorted k=v of its query with raw values (GET).
func signRequest(key *rsa.PrivateKey, fullURL string, body []byte) (string, error) {
	sum := sha1.Sum(append([]byte(fullURL), body...))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA1, sum[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// verify checks AdaPay's signature of data (an answer's or a webhook's).
func verify(key *rsa.PublicKey, data, signature string) bool {
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || len(sig) == 0 {
		return false
	}
	sum := sha1.Sum([]byte(data))
	return rsa.VerifyPKCS1v15(key, crypto.SHA1, sum[:], sig) == nil
}

// sortedQuery is what a GET's signature covers of its query: k=v sorted,
// joined by &, raw values, no "?".
func sortedQuery(q url.Values) string {
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, k := range names {
		parts = append(parts, k+"="+q.Get(k))
	}
	return strings.Join(parts, "&")
}

// apiError is AdaPay's refusal, in its words.
type apiError struct {
	Code, Msg, Type string
}

func (e *apiError) Error() string { return "adapay: " + e.Code + " " + e.Msg }

// call sends one request and returns the data of AdaPay's answer once its
// signature checks out. body nil is a GET with query q. A refusal that
// verifies is an ECHANNEL whose cause is an *apiError; no answer, an HTTP
// error without a signed body, and an answer that does not verify are
// ECHANNEL too.
func (a *AdaPay) call(ctx context.Context, op, path string, q url.Values, body any) (json.RawMessage, error) {
	fullURL := a.cfg.BaseURL + path
	var raw []byte
	method, signed := http.MethodGet, []byte(sortedQuery(q))
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return nil, cashier.WrapError(err, cashier.EINTERNAL, "could not encode the AdaPay request")
		}
		method, signed = http.MethodPost, raw
	}
	sig, err := signRequest(a.cfg.PrivateKey, fullURL, signed)
	if err != nil {
		return nil, cashier.WrapError(err, cashier.EINTERNAL, "could not sign the AdaPay request")
	}
	target := fullURL
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(raw))
	if err != nil {
		return nil, cashier.WrapError(err, cashier.EINTERNAL, "could not build the AdaPay request")
	}
	req.Header.Set("Authorization", a.cfg.APIKey)
	req.Header.Set("Signature", sig)
	req.Header.Set("sdk_version", "cashier_v1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		a.log.WarnContext(ctx, "adapay: unreachable", "op", op, "err", err)
		var urlErr *url.Error
		if errors.As(err, &urlErr) && urlErr.Timeout() {
			return nil, cashier.WrapError(err, cashier.ECHANNEL, "AdaPay did not answer in time")
		}
		return nil, cashier.WrapError(err, cashier.ECHANNEL, "AdaPay is not reachable")
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, cashier.WrapError(err, cashier.ECHANNEL, "AdaPay's answer could not be read")
	}
	var env struct {
		Data      string `json:"data"`
		Signature string `json:"signature"`
	}
	if json.Unmarshal(got, &env) != nil || env.Data == "" {
		a.log.WarnContext(ctx, "adapay: malformed answer", "op", op, "status", resp.StatusCode)
		return nil, cashier.Errorf(cashier.ECHANNEL, "AdaPay answered %s with HTTP %d and no signed data", op, resp.StatusCode)
	}
	if !verify(a.cfg.PublicKey, env.Data, env.Signature) {
		a.log.WarnContext(ctx, "adapay: answer does not verify", "op", op, "status", resp.StatusCode)
		return nil, cashier.Errorf(cashier.ECHANNEL, "AdaPay's answer to %s could not be verified", op)
	}
	var refusal struct {
		Status    string `json:"status"`
		ErrorCode string `json:"error_code"`
		ErrorMsg  string `json:"error_msg"`
		ErrorType string `json:"error_type"`
	}
	json.Unmarshal([]byte(env.Data), &refusal)
	if refusal.ErrorCode != "" || resp.StatusCode >= http.StatusBadRequest {
		e := &apiError{Code: refusal.ErrorCode, Msg: refusal.ErrorMsg, Type: refusal.ErrorType}
		a.log.WarnContext(ctx, "adapay: refused", "op", op, "status", resp.StatusCode, "code", e.Code, "msg", e.Msg)
		return nil, cashier.WrapError(e, cashier.ECHANNEL, "AdaPay refused "+op+": "+strings.TrimSpace(e.Code+" "+e.Msg))
	}
	return json.RawMessage(env.Data), nil
}

// refusalOf returns the verified refusal in err's chain, if any.
func refusalOf(err error) (*apiError, bool) {
	var e *apiError
	ok := errors.As(err, &e)
	return e, ok
}
