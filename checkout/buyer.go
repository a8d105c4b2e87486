package checkout

import (
	"context"
	"strings"
	"unicode/utf8"

	"cashier"
)

// The buyer's own data: the catalog they browse, their cart, schemes and
// shipping addresses.

// Products lists the active products with their standards and stock.
func (s *Service) Products(ctx context.Context) (list []cashier.Product, err error) {
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		list, err = tx.Products(ctx)
		return err
	})
	return list, err
}

// Schemes lists the user's customized schemes.
func (s *Service) Schemes(ctx context.Context, userID string) (list []cashier.Scheme, err error) {
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		list, err = tx.SchemesByUser(ctx, userID)
		return err
	})
	return list, err
}

// CartItems lists the user's cart.
func (s *Service) CartItems(ctx context.Context, userID string) (list []cashier.CartItem, err error) {
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		list, err = tx.CartItemsByUser(ctx, userID)
		return err
	})
	return list, err
}

// AddToCart puts count units of a standard in the user's cart (onto its line
// if there is one) and returns the line.
func (s *Service) AddToCart(ctx context.Context, userID string, productID, standardID, count int64) (*cashier.CartItem, error) {
	item := &cashier.CartItem{UserID: userID, ProductID: productID, StandardID: standardID, Count: count, CreatedAt: s.now()}
	err := s.store.Update(ctx, func(tx cashier.Tx) error {
		if _, err := productLine(ctx, tx, productID, standardID, count); err != nil {
			return err
		}
		if err := tx.AddToCart(ctx, item); err != nil {
			return err
		}
		if err := checkCount(item.Count); err != nil {
			return cashier.Errorf(cashier.EINVALID, "the cart line would hold %d: at most %d", item.Count, cashier.MaxCount)
		}
		// The line as it now stands must be in stock, not just what was added.
		_, err := productLine(ctx, tx, productID, standardID, item.Count)
		return err
	})
	if err != nil {
		return nil, err
	}
	return item, nil
}

// SetCartCount changes the count of one of the user's cart lines.
func (s *Service) SetCartCount(ctx context.Context, userID string, id, count int64) (*cashier.CartItem, error) {
	if err := checkCount(count); err != nil {
		return nil, err
	}
	var item *cashier.CartItem
	err := s.store.Update(ctx, func(tx cashier.Tx) error {
		cur, err := tx.CartItem(ctx, id)
		if err != nil || cur.UserID != userID {
			return cashier.Errorf(cashier.ENOTFOUND, "cart line %d not found", id)
		}
		if _, err := productLine(ctx, tx, cur.ProductID, cur.StandardID, count); err != nil {
			return err
		}
		ok, err := tx.SetCartItemCount(ctx, userID, id, count)
		if err != nil {
			return err
		}
		if !ok {
			return cashier.Errorf(cashier.ENOTFOUND, "cart line %d not found", id)
		}
		item, err = tx.CartItem(ctx, id)
		return err
	})
	return item, err
}

// RemoveFromCart removes one of the user's cart lines.
func (s *Service) RemoveFromCart(ctx context.Context, userID string, id int64) error {
	return s.store.Update(ctx, func(tx cashier.Tx) error {
		n, err := tx.DeleteCartItems(ctx, userID, []int64{id})
		if err != nil {
			return err
		}
		if n == 0 {
			return cashier.Errorf(cashier.ENOTFOUND, "cart line %d not found", id)
		}
		return nil
	})
}

// Addresses lists the user's shipping addresses.
func (s *Service) Addresses(ctx context.Context, userID string) (list []cashier.Address, err error) {
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		list, err = tx.AddressesByUser(ctx, userID)
		return err
	})
	return list, err
}

// SaveAddress adds a shipping address (a.ID 0) or changes one of the user's.
func (s *Service) SaveAddress(ctx context.Context, a *cashier.Address) error {
	if err := checkAddress(a); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx cashier.Tx) error {
		if a.ID == 0 {
			return tx.InsertAddress(ctx, a)
		}
		ok, err := tx.UpdateAddress(ctx, a)
		if err != nil {
			return err
		}
		if !ok {
			return cashier.Errorf(cashier.ENOTFOUND, "address %d not found", a.ID)
		}
		return nil
	})
}

// DeleteAddress removes one of the user's addresses. Orders keep their copy.
func (s *Service) DeleteAddress(ctx context.Context, userID string, id int64) error {
	return s.store.Update(ctx, func(tx cashier.Tx) error {
		ok, err := tx.DeleteAddress(ctx, userID, id)
		if err != nil {
			return err
		}
		if !ok {
			return cashier.Errorf(cashier.ENOTFOUND, "address %d not found", id)
		}
		return nil
	})
}

// SetDefaultAddress makes one of the user's addresses the default.
func (s *Service) SetDefaultAddress(ctx context.Context, userID string, id int64) (a *cashier.Address, err error) {
	err = s.store.Update(ctx, func(tx cashier.Tx) error {
		ok, err := tx.SetDefaultAddress(ctx, userID, id)
		if err != nil {
			return err
		}
		if !ok {
			return cashier.Errorf(cashier.ENOTFOUND, "address %d not found", id)
		}
		a, err = tx.Address(ctx, id)
		return err
	})
	return a, err
}

func checkAddress(a *cashier.Address) error {
	a.Name, a.Phone = strings.TrimSpace(a.Name), strings.TrimSpace(a.Phone)
	a.Region, a.Detail = strings.TrimSpace(a.Region), strings.TrimSpace(a.Detail)
	fields := []struct {
		name  string
		value string
		max   int
	}{{"name", a.Name, 64}, {"phone", a.Phone, 20}, {"region", a.Region, 128}, {"detail", a.Detail, 256}}
	for _, f := range fields {
		if f.value == "" {
			return cashier.Errorf(cashier.EINVALID, "%s is required", f.name)
		}
		if utf8.RuneCountInString(f.value) > f.max {
			return cashier.Errorf(cashier.EINVALID, "%s is longer than %d characters", f.name, f.max)
		}
	}
	for _, c := range a.Phone {
		if !strings.ContainsRune("0123456789+- ", c) {
			return cashier.Errorf(cashier.EINVALID, "phone %q is not a phone number", a.Phone)
		}
	}
	return nil
}
