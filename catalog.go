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

// Product is a shop product; what is bought is one of its standards.
type Product struct {
	ID        int64
	Name      string
	Active    bool
	Standards []Standard
}

// Standard is a variant of a product (规格) with its own price and stock.
type Standard struct {
	ID        int64
	ProductID int64
	Name      string
	Price     int64 // fen
	Stock     int64 // units left to reserve; never below zero
}

// Scheme is a customized design (定制方案) made for one user.
type Scheme struct {
	ID     int64
	UserID string
	Name   string
	Price  int64 // fen, per unit
}

// CartItem is one line of a user's shopping cart.
type CartItem struct {
	ID         int64
	UserID     string
	ProductID  int64
	StandardID int64
	Count      int64
	CreatedAt  time.Time
}

// Address is a user's shipping address. An order keeps a copy (snapshot), so
// that editing or deleting the address later does not change where it ships.
type Address struct {
	ID        int64  `json:"id"`
	UserID    string `json:"user_id"`
	Name      string `json:"name"`
	Phone     string `json:"phone"`
	Region    string `json:"region"`
	Detail    string `json:"detail"`
	IsDefault bool   `json:"is_default"`
}

// MaxCount bounds the count of one line: more is a typo, not an order.
const MaxCount = 999
