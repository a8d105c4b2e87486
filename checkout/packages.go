package checkout

import (
	"context"
	"sync"
	"time"

	"cashier"
)

// packageTTL is how long a package read for pricing is reused. A change is
// never missed by an order: the store writes a package's line only at the
// package's current name and price while it is sold
// (cashier.ErrPackageChanged), and the order is then priced again from the
// database. The TTL only bounds how long a reactivated package stays
// refused.
const packageTTL = 10 * time.Second

// packageCache keeps the packages orders are priced from, so that creating
// an order reads nothing from the database. Only packages that exist are
// kept: an unknown id costs a read each time and fills no memory.
type packageCache struct {
	mu sync.Mutex
	m  map[int64]cachedPackage
}

type cachedPackage struct {
	pkg  cashier.Package
	read time.Time
}

// get returns package id, from the cache while it is fresh and otherwise
// from tx.
func (c *packageCache) get(ctx context.Context, tx cashier.Tx, id int64, now time.Time) (*cashier.Package, error) {
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if ok && now.Sub(e.read) < packageTTL && !now.Before(e.read) {
		p := e.pkg
		return &p, nil
	}
	p, err := tx.Package(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[int64]cachedPackage{}
	}
	c.m[id] = cachedPackage{pkg: *p, read: now}
	c.mu.Unlock()
	return p, nil
}

// forget drops package id, after the store refused it as changed.
func (c *packageCache) forget(id int64) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}
