package cashier

import "time"

// OrderKind says what an order buys.
type OrderKind string

const (
	KindProduct    OrderKind = "product"
	KindCart       OrderKind = "cart"
	KindCustomized OrderKind = "customized"
	KindPackage    OrderKind = "package"
)

// OrderStatus is the state of an order; see CanTransitionOrder for the machine.
type OrderStatus string

const (
	OrderPending           OrderStatus = "pending"
	OrderPaid              OrderStatus = "paid"
	OrderFulfilled         OrderStatus = "fulfilled"
	OrderClosed            OrderStatus = "closed"
	OrderRefunding         OrderStatus = "refunding"
	OrderRefunded          OrderStatus = "refunded"
	OrderPartiallyRefunded OrderStatus = "partially_refunded"
)

var orderTransitions = map[OrderStatus][]OrderStatus{
	OrderPending: {OrderPaid, OrderClosed},
	// Only an app store purchase pays a closed order (the store's money
	// cannot be given back from the server), and only if its channel says
	// so: such an order holds no coupon, stock or upgrade to take back.
	OrderClosed:    {OrderPaid},
	OrderPaid:      {OrderFulfilled, OrderRefunding},
	OrderFulfilled: {OrderRefunding},
	// A refund that fails gives the order back the status it had: paid when
	// nothing was refunded.
	OrderRefunding:         {OrderRefunded, OrderPartiallyRefunded, OrderPaid},
	OrderPartiallyRefunded: {OrderRefunding},
}

// CanTransitionOrder reports whether an order may move from one status to another.
func CanTransitionOrder(from, to OrderStatus) bool {
	for _, s := range orderTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Order is what the buyer buys: the payable unit. Amounts are in fen.
type Order struct {
	ID          int64
	UserID      string
	Kind        OrderKind
	Status      OrderStatus
	Source      string // distribution channel number (渠道号)
	Subject     string // shown by the channel's pay page
	Amount      int64  // items total
	Discount    int64  // coupon and upgrade credit
	Payable     int64  // Amount - Discount
	PaidAmount  int64
	Refunded    int64 // refunded or being refunded
	CouponID    int64 // 0: none
	CostOrderID int64 // 0: not an upgrade
	CostCredit  int64 // part of Discount granted for CostOrderID
	// CostClaimedBy is the upgrade order that holds (pending) or consumed (paid)
	// this order as its cost order; 0 if none.
	CostClaimedBy int64
	Remarks       string
	Address       *Address // shipping address snapshot (shop orders); nil if none
	CreatedAt     time.Time
	ExpiresAt     time.Time
	PaidAt        time.Time // zero until paid
	ClosedAt      time.Time // zero unless closed

	Items    []LineItem
	Payments []Payment
	Refunds  []Refund
}

// Expired reports whether a pending order is past its expiry at now.
func (o *Order) Expired(now time.Time) bool {
	return o.Status == OrderPending && !o.ExpiresAt.IsZero() && !now.Before(o.ExpiresAt)
}

// LineItem is one line of an order. Name and unit price are snapshots taken
// when the order was made, so later catalog changes never alter an order.
type LineItem struct {
	ID           int64
	OrderID      int64
	PackageID    int64 // what the line buys: a package,
	ProductID    int64 // a standard of a product,
	StandardID   int64
	SchemeID     int64     // or a customized scheme
	DeliveryTime time.Time // customized: when the buyer wants it
	Name         string
	UnitPrice    int64
	Count        int64
	Remarks      string // the buyer's remarks on this line
}

// Total is the line's amount in fen.
func (li LineItem) Total() int64 { return li.UnitPrice * li.Count }
