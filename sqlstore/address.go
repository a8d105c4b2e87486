package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"cashier"
)

const addressColumns = "id, user_id, name, phone, region, detail, is_default"

func scanAddress(s interface{ Scan(...any) error }) (cashier.Address, error) {
	var a cashier.Address
	err := s.Scan(&a.ID, &a.UserID, &a.Name, &a.Phone, &a.Region, &a.Detail, &a.IsDefault)
	return a, err
}

// InsertAddress writes a; as the default it first takes the default from the
// user's other addresses. At most one default per user is also enforced by a
// partial unique index, so a racing writer fails rather than making two.
func (t *tx) InsertAddress(ctx context.Context, a *cashier.Address) error {
	if a.IsDefault {
		if err := t.clearDefault(ctx, a.UserID, 0); err != nil {
			return err
		}
	}
	id, err := t.insert(ctx, `INSERT INTO addresses (user_id, name, phone, region, detail, is_default)
		VALUES (?, ?, ?, ?, ?, ?)`, a.UserID, a.Name, a.Phone, a.Region, a.Detail, a.IsDefault)
	if err != nil {
		return fmt.Errorf("insert address: %w", err)
	}
	a.ID = id
	return nil
}

func (t *tx) Address(ctx context.Context, id int64) (*cashier.Address, error) {
	a, err := scanAddress(t.queryRow(ctx, "SELECT "+addressColumns+" FROM addresses WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "address", id)
	}
	return &a, nil
}

func (t *tx) AddressesByUser(ctx context.Context, userID string) ([]cashier.Address, error) {
	rows, err := t.query(ctx, "SELECT "+addressColumns+" FROM addresses WHERE user_id = ? ORDER BY id", userID)
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	defer rows.Close()
	var list []cashier.Address
	for rows.Next() {
		a, err := scanAddress(rows)
		if err != nil {
			return nil, fmt.Errorf("scan address: %w", err)
		}
		list = append(list, a)
	}
	return list, rows.Err()
}

// UpdateAddress rewrites the user's address a.ID. The guarded update comes
// first, so that a missing address takes nothing from the others.
func (t *tx) UpdateAddress(ctx context.Context, a *cashier.Address) (bool, error) {
	ok, err := t.changed(ctx, `UPDATE addresses SET name = ?, phone = ?, region = ?, detail = ?,
		is_default = is_default AND ? WHERE id = ? AND user_id = ?`,
		a.Name, a.Phone, a.Region, a.Detail, a.IsDefault, a.ID, a.UserID)
	if err != nil {
		return false, fmt.Errorf("update address %d: %w", a.ID, err)
	}
	if !ok || !a.IsDefault {
		return ok, nil
	}
	if err := t.clearDefault(ctx, a.UserID, a.ID); err != nil {
		return false, err
	}
	if _, err := t.exec(ctx, "UPDATE addresses SET is_default = TRUE WHERE id = ?", a.ID); err != nil {
		return false, fmt.Errorf("update address %d: %w", a.ID, err)
	}
	return true, nil
}

func (t *tx) DeleteAddress(ctx context.Context, userID string, id int64) (bool, error) {
	ok, err := t.changed(ctx, "DELETE FROM addresses WHERE id = ? AND user_id = ?", id, userID)
	if err != nil {
		return false, fmt.Errorf("delete address %d: %w", id, err)
	}
	return ok, nil
}

// SetDefaultAddress takes the default from the user's other addresses only if
// the user has address id, then makes it the default.
func (t *tx) SetDefaultAddress(ctx context.Context, userID string, id int64) (bool, error) {
	_, err := t.exec(ctx, `UPDATE addresses SET is_default = FALSE
		WHERE user_id = ? AND is_default AND id <> ?
		AND EXISTS (SELECT 1 FROM addresses a WHERE a.id = ? AND a.user_id = ?)`, userID, id, id, userID)
	if err != nil {
		return false, fmt.Errorf("set default address %d: %w", id, err)
	}
	ok, err := t.changed(ctx, "UPDATE addresses SET is_default = TRUE WHERE id = ? AND user_id = ?", id, userID)
	if err != nil {
		return false, fmt.Errorf("set default address %d: %w", id, err)
	}
	return ok, nil
}

// clearDefault takes the default from the user's addresses other than except.
func (t *tx) clearDefault(ctx context.Context, userID string, except int64) error {
	_, err := t.exec(ctx, "UPDATE addresses SET is_default = FALSE WHERE user_id = ? AND is_default AND id <> ?", userID, except)
	if err != nil {
		return fmt.Errorf("clear default address: %w", err)
	}
	return nil
}

// encodeAddress is how an order's address snapshot is stored: JSON, or the
// empty string for none.
func encodeAddress(a *cashier.Address) (string, error) {
	if a == nil {
		return "", nil
	}
	b, err := json.Marshal(a)
	if err != nil {
		return "", fmt.Errorf("encode address: %w", err)
	}
	return string(b), nil
}

// decodeAddress reverses encodeAddress.
func decodeAddress(s string) (*cashier.Address, error) {
	if s == "" {
		return nil, nil
	}
	var a cashier.Address
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return nil, fmt.Errorf("decode address: %w", err)
	}
	return &a, nil
}
