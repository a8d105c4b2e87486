package cashier

import (
	"context"
	"time"
)

// Store is durable storage. Every change of state happens inside Update, in one
// transaction; guarded transitions report whether they happened so that two
// racing writers can never both win.
type Store interface {
	// View runs fn with read access. fn must not write.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in one read-write transaction, committed if fn returns nil.
	Update(ctx context.Context, fn func(Tx) error) error
	// PlacePackageOrder writes an order of one package line (no coupon,
	// upgrade, stock or address) and its first attempt as one atomic change,
	// in one round trip where the database allows: the most common order
	// costs one commit. Like InsertOrder, it writes nothing and returns
	// ErrPackageChanged when the package's name or price changed or it was
	// withdrawn.
	PlacePackageOrder(ctx context.Context, o *Order, p *Payment) error
	Ping(ctx context.Context) error
	Close() error
}

// Tx is the set of queries and guarded updates available inside a transaction.
// Lookups of a missing row return an error with code ENOTFOUND.
type Tx interface {
	// Catalog.
	InsertPackage(ctx context.Context, p *Package) error
	Package(ctx context.Context, id int64) (*Package, error)
	Packages(ctx context.Context) ([]Package, error)

	// Products and their standards (规格). InsertProduct writes the standards
	// too; Product and Products return them.
	InsertProduct(ctx context.Context, p *Product) error
	Product(ctx context.Context, id int64) (*Product, error)
	Products(ctx context.Context) ([]Product, error)
	InsertStandard(ctx context.Context, s *Standard) error
	Standard(ctx context.Context, id int64) (*Standard, error)
	SetStock(ctx context.Context, standardID, stock int64) error
	// ReserveStock takes n off a standard's stock only if at least n is left;
	// it reports whether it did.
	ReserveStock(ctx context.Context, standardID, n int64) (bool, error)
	// ReleaseStock gives n back to a standard's stock.
	ReleaseStock(ctx context.Context, standardID, n int64) error

	// Customized schemes (定制方案).
	InsertScheme(ctx context.Context, s *Scheme) error
	Scheme(ctx context.Context, id int64) (*Scheme, error)
	SchemesByUser(ctx context.Context, userID string) ([]Scheme, error)

	// Cart. AddToCart adds item.Count of a standard to the user's cart, onto
	// the line of that standard if there is one, and sets item's ID and
	// resulting Count.
	AddToCart(ctx context.Context, item *CartItem) error
	CartItem(ctx context.Context, id int64) (*CartItem, error)
	CartItemsByUser(ctx context.Context, userID string) ([]CartItem, error)
	// SetCartItemCount changes the count of one of the user's lines; it
	// reports whether the line exists.
	SetCartItemCount(ctx context.Context, userID string, id, count int64) (bool, error)
	// DeleteCartItems removes the user's lines among ids and returns how many
	// it removed.
	DeleteCartItems(ctx context.Context, userID string, ids []int64) (int64, error)

	// Shipping addresses. A user has at most one default: making one the
	// default (InsertAddress or UpdateAddress with IsDefault, or
	// SetDefaultAddress) takes it from the others. Updates are guarded by the
	// user id and report whether the address exists.
	InsertAddress(ctx context.Context, a *Address) error
	Address(ctx context.Context, id int64) (*Address, error)
	AddressesByUser(ctx context.Context, userID string) ([]Address, error)
	UpdateAddress(ctx context.Context, a *Address) (bool, error)
	DeleteAddress(ctx context.Context, userID string, id int64) (bool, error)
	SetDefaultAddress(ctx context.Context, userID string, id int64) (bool, error)

	// Coupons.
	InsertCoupon(ctx context.Context, c *Coupon) error
	Coupon(ctx context.Context, id int64) (*Coupon, error)
	CouponsByUser(ctx context.Context, userID string) ([]Coupon, error)
	// TransitionCoupon moves a coupon from one status to another, only if it is
	// in status from and (unless from is available) held by orderID; leaving
	// available it becomes held by orderID, returning to available it is freed.
	// It reports whether it did.
	TransitionCoupon(ctx context.Context, id int64, from, to CouponStatus, orderID int64) (bool, error)

	// Orders. InsertOrder writes the order, its address snapshot and its line
	// items, and sets their ids.
	InsertOrder(ctx context.Context, o *Order) error
	// Order returns the order with its line items, payments and refunds.
	Order(ctx context.Context, id int64) (*Order, error)
	// OrderHead returns the order's own fields only: no line items,
	// payments or refunds (one query, for the paths that need no more).
	OrderHead(ctx context.Context, id int64) (*Order, error)
	OrdersByUser(ctx context.Context, userID string, f OrderFilter) ([]Order, error)
	// Orders searches every user's orders (operators), newest first.
	Orders(ctx context.Context, f OrderFilter) ([]Order, error)
	// TransitionOrder applies ch to the order only if its status is from; it
	// reports whether it did.
	TransitionOrder(ctx context.Context, id int64, from OrderStatus, ch OrderChange) (bool, error)
	// PayPendingOrder marks a pending order paid at at with paidAmount and,
	// with it, its attempt paymentID as ch says (ch.Status paid), if that is
	// pending, closed or failed. It returns the order's fields as they are
	// now (no items, payments or refunds), or nil when the order was not
	// pending: then nothing changed. attemptPaid false with an order means
	// the attempt had moved on (another delivery paid it): the caller rolls
	// back.
	PayPendingOrder(ctx context.Context, orderID int64, at time.Time, paidAmount int64, paymentID int64, ch PaymentChange) (o *Order, attemptPaid bool, err error)
	// ClaimCostOrder marks the order costID as held by the upgrade order
	// byOrderID, only if no other order holds it and it is paid with nothing
	// refunded; it reports whether it did.
	ClaimCostOrder(ctx context.Context, costID, byOrderID int64) (bool, error)
	// LockOrder and LockPayment take the row's write lock for the rest of the
	// transaction, so that what is read next is not changed by another
	// transaction before this one commits.
	LockOrder(ctx context.Context, id int64) error
	LockPayment(ctx context.Context, id int64) error
	// ReleaseCostOrder frees costID if byOrderID holds it.
	ReleaseCostOrder(ctx context.Context, costID, byOrderID int64) error

	// Background work that has come due, claimed for scheduling in this
	// transaction, at most limit rows at a time. ClaimDueExpiries marks the
	// orders whose expiry has passed as seen, and returns how many it marked
	// and the ids of those still pending (they need their expiry job);
	// ClaimDuePolls clears the poll_at that has come of attempts and returns
	// theirs. Two instances never claim the same row.
	ClaimDueExpiries(ctx context.Context, now time.Time, limit int) (pending []int64, claimed int, err error)
	ClaimDuePolls(ctx context.Context, now time.Time, limit int) ([]int64, error)
	// ClaimUndispatchedEvents marks up to limit events, oldest first, as
	// dispatched and returns them (id and type): the caller schedules
	// their webhook deliveries in the same transaction.
	ClaimUndispatchedEvents(ctx context.Context, limit int) ([]Event, error)

	// Payments.
	InsertPayment(ctx context.Context, p *Payment) error
	PaymentByOutTradeNo(ctx context.Context, outTradeNo string) (*Payment, error)
	PaymentsByOrder(ctx context.Context, orderID int64) ([]Payment, error)
	// TransitionPayment applies ch to the payment only if its status is one of
	// from; it reports whether it did.
	TransitionPayment(ctx context.Context, id int64, from []PaymentStatus, ch PaymentChange) (bool, error)

	// Payment returns one attempt by id.
	Payment(ctx context.Context, id int64) (*Payment, error)
	// ClaimTransaction records that a channel's transaction pays paymentID,
	// unless it already pays another attempt, and returns the attempt it
	// pays: paymentID, or the one that claimed it first.
	ClaimTransaction(ctx context.Context, channel, transactionID string, paymentID int64, at time.Time) (owner int64, err error)
	// TransactionOwner is the attempt a channel's transaction pays (ENOTFOUND: none).
	TransactionOwner(ctx context.Context, channel, transactionID string) (int64, error)

	// Refunds.
	InsertRefund(ctx context.Context, r *Refund) error
	Refund(ctx context.Context, id int64) (*Refund, error)
	RefundByOutRefundNo(ctx context.Context, outRefundNo string) (*Refund, error)
	RefundsByOrder(ctx context.Context, orderID int64) ([]Refund, error)
	// TransitionRefund applies ch only if the refund's status is from; it
	// reports whether it did.
	TransitionRefund(ctx context.Context, id int64, from RefundStatus, ch RefundChange) (bool, error)
	// ReserveRefund adds amount to the order's refunded total only if the
	// total stays within its paid amount; it reports whether it did. This one
	// guarded update is what keeps concurrent refunds from exceeding the paid
	// amount.
	ReserveRefund(ctx context.Context, orderID, amount int64) (bool, error)
	// ReleaseRefund takes amount back off the order's refunded total (a
	// refund failed).
	ReleaseRefund(ctx context.Context, orderID, amount int64) error

	// Inbound messages.
	// InsertInbound and InsertEvent write what nothing in the transaction
	// reads back: a store may send them with the commit, so m.ID is set
	// once Update has returned, and their errors may come from Update.
	InsertInbound(ctx context.Context, m *InboundMessage) error
	Inbound(ctx context.Context, id int64) (*InboundMessage, error)
	// PurgeUnverifiedInbound deletes messages that failed verification and
	// were received before before; it returns how many.
	PurgeUnverifiedInbound(ctx context.Context, before time.Time) (int64, error)
	// InboundMessages lists recorded messages, newest first.
	InboundMessages(ctx context.Context, f InboundFilter) ([]InboundMessage, error)

	// Outbox.
	InsertEvent(ctx context.Context, e *Event) error
	EventsByOrder(ctx context.Context, orderID int64) ([]Event, error)
	Event(ctx context.Context, id string) (*Event, error)

	// Webhooks.
	InsertWebhookEndpoint(ctx context.Context, e *WebhookEndpoint) error
	WebhookEndpoint(ctx context.Context, id int64) (*WebhookEndpoint, error)
	WebhookEndpoints(ctx context.Context) ([]WebhookEndpoint, error)
	InsertDelivery(ctx context.Context, d *Delivery) error
	Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)

	// Idempotency keys. ClaimIdempotencyKey records a new, unfinished record
	// for (scope, key) and reports claimed=true; if one exists it returns it
	// with claimed=false and changes nothing. The primary key on (scope, key)
	// makes two racing claims end with one winner.
	ClaimIdempotencyKey(ctx context.Context, rec *IdempotencyRecord) (existing *IdempotencyRecord, claimed bool, err error)
	FinishIdempotencyKey(ctx context.Context, scope, key string, status int, body []byte) error
	// DropIdempotencyKey deletes a record; with a non-zero createdAt only that
	// unfinished record (an abandoned claim), so that two takers cannot both
	// delete and claim. It reports whether it deleted one.
	DropIdempotencyKey(ctx context.Context, scope, key string, createdAt time.Time) (bool, error)
	// PurgeIdempotencyKeys deletes records created before t and says how many.
	PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error)

	// Stats counts what monitoring watches.
	Stats(ctx context.Context) (*Stats, error)
}

// InboundFilter selects recorded inbound messages.
type InboundFilter struct {
	Channel    string // "" = any
	OutTradeNo string // "" = any
	Outcome    string // "" = any
	BeforeID   int64  // 0 = from the newest
	Limit      int    // default 50, at most 500
}

// RefundChange is the new state of a refund in a guarded transition.
type RefundChange struct {
	Status          RefundStatus
	At              time.Time // SettledAt
	ChannelRefundNo string    // kept when empty
	Detail          string
}

// OrderFilter pages through orders, newest first.
type OrderFilter struct {
	UserID   string      // "" = any (Orders only)
	Status   OrderStatus // "" = any
	BeforeID int64       // 0 = from the newest
	Limit    int
}

// OrderChange is the new state of an order in a guarded transition.
type OrderChange struct {
	Status     OrderStatus
	At         time.Time // PaidAt when paid, ClosedAt when closed
	PaidAmount int64     // when paid
}

// PaymentChange is the new state of a payment in a guarded transition.
type PaymentChange struct {
	Status         PaymentStatus
	At             time.Time
	ChannelTradeNo string // kept when empty
	PaidAt         time.Time
}

// PoolStats are this instance's database connections, for monitoring.
type PoolStats struct {
	InUse, Idle, Max int
	Waits            int64         // connections that had to be waited for
	WaitTime         time.Duration // the total of those waits
}

// Stats are counts over the whole database, for monitoring: they are the
// same whichever cashier instance is asked.
type Stats struct {
	Orders   map[string]int64 // by status
	Payments map[string]int64 // by status
	Refunds  map[string]int64 // by status
	Inbound  map[string]int64 // channel messages by outcome
	Jobs     map[string]int64 // background jobs by state
}
