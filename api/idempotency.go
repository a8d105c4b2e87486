package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"time"

	"cashier"
	"cashier/checkout"
)

// IdempotencyHeader names the client's key for a request it may send again.
const IdempotencyHeader = "Idempotency-Key"

// abandonedAfter is how long an unfinished claim of a key is honoured: longer
// than any request runs, so an older one belongs to a process that died.
const abandonedAfter = 10 * time.Minute

// idempotent answers a request sent again with the same Idempotency-Key with
// the first answer, without doing it twice; the same key with other
// parameters is a 409. Keys belong to a scope (the user, or "admin"). A
// request that failed with a server error leaves no record, so that it can be
// tried again.
func idempotent(co *checkout.Service, log *slog.Logger, scope func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get(IdempotencyHeader)
		if key == "" {
			next.ServeHTTP(w, r)
			return
		}
		if err := checkIdempotencyKey(key); err != nil {
			writeError(w, r, log, err)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(w, r, log, bodyError(err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h := sha256.New()
		io.WriteString(h, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+"\n"+r.Header.Get("Content-Type")+"\n")
		h.Write(body)
		rec := &cashier.IdempotencyRecord{Scope: scope(r), Key: key, RequestHash: hex.EncodeToString(h.Sum(nil))}

		existing, claimed, err := co.ClaimIdempotencyKey(r.Context(), rec)
		if err == nil && !claimed && !existing.Done && existing.RequestHash == rec.RequestHash &&
			co.Now().Sub(existing.CreatedAt) > abandonedAfter {
			// The request that claimed the key died with its process: nothing
			// answered it, so this one may do it.
			var dropped bool
			// Only that stale claim: of two retries, one takes it over.
			if dropped, err = co.DropIdempotencyKey(r.Context(), rec.Scope, key, existing.CreatedAt); err == nil && dropped {
				existing, claimed, err = co.ClaimIdempotencyKey(r.Context(), rec)
			}
		}
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		if !claimed {
			switch {
			case existing.RequestHash != rec.RequestHash:
				writeError(w, r, log, cashier.Errorf(cashier.ECONFLICT, "this %s was used for a different request: use a new key for new parameters", IdempotencyHeader))
			case !existing.Done:
				writeError(w, r, log, cashier.Errorf(cashier.ECONFLICT, "a request with this %s is still being processed: try again shortly", IdempotencyHeader))
			default:
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.Header().Set("Cache-Control", "no-store")
				w.Header().Set("Idempotent-Replayed", "true")
				w.WriteHeader(existing.Status)
				w.Write(existing.Body)
			}
			return
		}
		ctx := context.WithoutCancel(r.Context())
		defer func() {
			if p := recover(); p != nil {
				co.DropIdempotencyKey(ctx, rec.Scope, key, time.Time{})
				panic(p)
			}
		}()
		cw := &capture{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(cw, r)
		if cw.status >= 500 {
			_, err = co.DropIdempotencyKey(ctx, rec.Scope, key, time.Time{})
		} else {
			err = co.FinishIdempotencyKey(ctx, rec.Scope, key, cw.status, cw.body.Bytes())
		}
		if err != nil {
			log.ErrorContext(ctx, "could not keep an idempotent response", "path", r.URL.Path, "err", err)
		}
	})
}

// capture passes a response through and keeps a copy.
type capture struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *capture) WriteHeader(status int) {
	c.status = status
	c.ResponseWriter.WriteHeader(status)
}

func (c *capture) Write(b []byte) (int, error) {
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}

func userScope(r *http.Request) string { return "user:" + userID(r.Context()) }

func adminScope(*http.Request) string { return "admin" }
