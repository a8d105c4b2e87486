package cashier

import "time"

// Package is a purchasable bundle (套餐) of the order API.
type Package struct {
	ID             int64
	Name           string
	Price          int64 // fen
	AppleProductID string
	Gold           int64
	Diamond        int64
	Active         bool
}

// CouponStatus is the state of a user's coupon.
type CouponStatus string

const (
	CouponAvailable CouponStatus = "available"
	CouponLocked    CouponStatus = "locked" // held by a pending order
	CouponUsed      CouponStatus = "used"
	CouponExpired   CouponStatus = "expired"
)

// Coupon takes Discount fen off an order of at least MinAmount fen.
type Coupon struct {
	ID        int64
	UserID    string
	Name      string
	Discount  int64
	MinAmount int64
	ExpiresAt time.Time
	Status    CouponStatus
	OrderID   int64 // the order holding or having used it
}

// StatusAt is the coupon's status as a client should see it at now: an
// available coupon past its expiry is expired.
func (c *Coupon) StatusAt(now time.Time) CouponStatus {
	if c.Status == CouponAvailable && !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt) {
		return CouponExpired
	}
	return c.Status
}
