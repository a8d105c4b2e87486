package api

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"cashier"

	"github.com/golang-jwt/jwt/v5"
)

// Auth verifies the buyers' bearer tokens: JWTs whose sub is the user id,
// signed with an HS256 secret, or with an RS256/ES256 key whose public half
// cashier is given.
type Auth struct {
	secret    []byte
	publicKey crypto.PublicKey
	log       *slog.Logger
}

// NewAuth returns an Auth for HS256 tokens (secret) or RS256/ES256 tokens
// (publicKey, an *rsa.PublicKey or *ecdsa.PublicKey); exactly one must be set.
func NewAuth(secret []byte, publicKey crypto.PublicKey, log *slog.Logger) (*Auth, error) {
	if (len(secret) == 0) == (publicKey == nil) {
		return nil, errors.New("auth: configure exactly one of a JWT secret or a JWT public key")
	}
	if len(secret) > 0 && len(secret) < 32 {
		return nil, errors.New("auth: the JWT secret must be at least 32 bytes")
	}
	if log == nil {
		log = slog.Default()
	}
	return &Auth{secret: secret, publicKey: publicKey, log: log}, nil
}

// IssueToken signs an HS256 token for a user, valid for ttl.
func IssueToken(secret []byte, userID string, now time.Time, ttl time.Duration) (string, error) {
	if userID == "" {
		return "", errors.New("token: user id is required")
	}
	claims := jwt.RegisteredClaims{
		Subject:   userID,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

type userKey struct{}

// userID returns the authenticated user of a request's context.
func userID(ctx context.Context) string {
	s, _ := ctx.Value(userKey{}).(string)
	return s
}

// verify returns the user id of a valid token.
func (a *Auth) verify(token string) (string, error) {
	methods := []string{"HS256"}
	if a.publicKey != nil {
		methods = []string{"RS256", "ES256"}
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) {
		if a.publicKey != nil {
			return a.publicKey, nil
		}
		return a.secret, nil
	}, jwt.WithValidMethods(methods), jwt.WithExpirationRequired(), jwt.WithLeeway(time.Minute))
	if err != nil {
		return "", tokenError(err, claims)
	}
	if claims.Subject == "" || len(claims.Subject) > 64 || checkText("sub", claims.Subject) != nil {
		return "", cashier.Errorf(cashier.EUNAUTHORIZED, "the token's sub claim is not a usable user id (1 to 64 characters of text)")
	}
	return claims.Subject, nil
}

// tokenError says what is wrong with a token, in words a client developer
// can act on, and nothing about the key.
func tokenError(err error, claims jwt.RegisteredClaims) error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return cashier.Errorf(cashier.EUNAUTHORIZED, "malformed token: send the JWT as Authorization: Bearer <token>")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return cashier.Errorf(cashier.EUNAUTHORIZED, "the token is not signed with this server's key (or uses another algorithm)")
	case errors.Is(err, jwt.ErrTokenExpired) && claims.ExpiresAt != nil:
		return cashier.Errorf(cashier.EUNAUTHORIZED, "the token expired at %s: get a new one", claims.ExpiresAt.UTC().Format(time.RFC3339))
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return cashier.Errorf(cashier.EUNAUTHORIZED, "the token has no exp claim: tokens must expire")
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return cashier.Errorf(cashier.EUNAUTHORIZED, "the token is not valid yet (check the issuer's clock)")
	default:
		return cashier.Errorf(cashier.EUNAUTHORIZED, "invalid token")
	}
}

// User lets a request through only with a valid bearer token.
func (a *Auth) User(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || strings.TrimSpace(token) == "" {
			writeError(w, r, a.log, cashier.Errorf(cashier.EUNAUTHORIZED, "missing bearer token: send Authorization: Bearer <token>"))
			return
		}
		uid, err := a.verify(strings.TrimSpace(token))
		if err != nil {
			a.log.InfoContext(r.Context(), "bad bearer token", "path", r.URL.Path, "remote_addr", r.RemoteAddr, "reason", cashier.ErrorMessage(err))
			writeError(w, r, a.log, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, uid)))
	})
}
