package checkout

import (
	"context"
	"strings"

	"cashier"
)

// Catalog management, for the admin API.

// CreateProduct adds a product with its standards.
func (s *Service) CreateProduct(ctx context.Context, p *cashier.Product) error {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		return cashier.Errorf(cashier.EINVALID, "name is required")
	}
	for i := range p.Standards {
		if err := checkStandard(&p.Standards[i]); err != nil {
			return err
		}
	}
	p.Active = true
	return s.store.Update(ctx, func(tx cashier.Tx) error { return tx.InsertProduct(ctx, p) })
}

// AddStandard adds a standard to a product.
func (s *Service) AddStandard(ctx context.Context, st *cashier.Standard) error {
	if err := checkStandard(st); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx cashier.Tx) error {
		if _, err := tx.Product(ctx, st.ProductID); err != nil {
			return err
		}
		return tx.InsertStandard(ctx, st)
	})
}

// SetStock sets how many units of a standard are left to sell.
func (s *Service) SetStock(ctx context.Context, standardID, stock int64) (st *cashier.Standard, err error) {
	if stock < 0 || stock > 1e9 {
		return nil, cashier.Errorf(cashier.EINVALID, "stock must be between 0 and 1000000000")
	}
	err = s.store.Update(ctx, func(tx cashier.Tx) error {
		if err := tx.SetStock(ctx, standardID, stock); err != nil {
			return err
		}
		st, err = tx.Standard(ctx, standardID)
		return err
	})
	return st, err
}

// CreateScheme adds a customized scheme for a user.
func (s *Service) CreateScheme(ctx context.Context, sc *cashier.Scheme) error {
	sc.Name, sc.UserID = strings.TrimSpace(sc.Name), strings.TrimSpace(sc.UserID)
	if sc.Name == "" || sc.UserID == "" {
		return cashier.Errorf(cashier.EINVALID, "user_id and name are required")
	}
	if err := checkPrice(sc.Price); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx cashier.Tx) error { return tx.InsertScheme(ctx, sc) })
}

// CreatePackage adds a package to the order API's catalog.
func (s *Service) CreatePackage(ctx context.Context, p *cashier.Package) error {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		return cashier.Errorf(cashier.EINVALID, "name is required")
	}
	if err := checkPrice(p.Price); err != nil {
		return err
	}
	if p.Gold < 0 || p.Diamond < 0 {
		return cashier.Errorf(cashier.EINVALID, "gold and diamond cannot be negative")
	}
	p.Active = true
	return s.store.Update(ctx, func(tx cashier.Tx) error { return tx.InsertPackage(ctx, p) })
}

// CreateCoupon gives a user a coupon.
func (s *Service) CreateCoupon(ctx context.Context, c *cashier.Coupon) error {
	c.Name, c.UserID = strings.TrimSpace(c.Name), strings.TrimSpace(c.UserID)
	if c.Name == "" || c.UserID == "" {
		return cashier.Errorf(cashier.EINVALID, "user_id and name are required")
	}
	if err := checkPrice(c.Discount); err != nil {
		return cashier.Errorf(cashier.EINVALID, "discount must be between 1 and 100000000 fen")
	}
	if c.MinAmount < 0 {
		return cashier.Errorf(cashier.EINVALID, "min_amount cannot be negative")
	}
	if !c.ExpiresAt.IsZero() && !c.ExpiresAt.After(s.now()) {
		return cashier.Errorf(cashier.EINVALID, "expires_at is in the past")
	}
	c.Status = cashier.CouponAvailable
	return s.store.Update(ctx, func(tx cashier.Tx) error { return tx.InsertCoupon(ctx, c) })
}

func checkStandard(st *cashier.Standard) error {
	st.Name = strings.TrimSpace(st.Name)
	if st.Name == "" {
		return cashier.Errorf(cashier.EINVALID, "standard name is required")
	}
	if err := checkPrice(st.Price); err != nil {
		return err
	}
	if st.Stock < 0 || st.Stock > 1e9 {
		return cashier.Errorf(cashier.EINVALID, "stock must be between 0 and 1000000000")
	}
	return nil
}

func checkPrice(fen int64) error {
	if fen < 1 || fen > 1e8 {
		return cashier.Errorf(cashier.EINVALID, "price must be between 1 and 100000000 fen (1 million yuan)")
	}
	return nil
}
