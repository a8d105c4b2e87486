package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"cashier"
)

const productColumns = "id, name, active"

func scanProduct(s interface{ Scan(...any) error }) (cashier.Product, error) {
	var p cashier.Product
	err := s.Scan(&p.ID, &p.Name, &p.Active)
	return p, err
}

const standardColumns = "id, product_id, name, price, stock"

func scanStandard(s interface{ Scan(...any) error }) (cashier.Standard, error) {
	var st cashier.Standard
	err := s.Scan(&st.ID, &st.ProductID, &st.Name, &st.Price, &st.Stock)
	return st, err
}

func (t *tx) InsertProduct(ctx context.Context, p *cashier.Product) error {
	id, err := t.insert(ctx, "INSERT INTO products (name, active) VALUES (?, ?)", p.Name, p.Active)
	if err != nil {
		return fmt.Errorf("insert product: %w", err)
	}
	p.ID = id
	for i := range p.Standards {
		s := &p.Standards[i]
		s.ProductID = id
		if err := t.InsertStandard(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) Product(ctx context.Context, id int64) (*cashier.Product, error) {
	p, err := scanProduct(t.queryRow(ctx, "SELECT "+productColumns+" FROM products WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "product", id)
	}
	if p.Standards, err = t.standards(ctx, "WHERE product_id = ? ORDER BY id", id); err != nil {
		return nil, err
	}
	return &p, nil
}

func (t *tx) Products(ctx context.Context) ([]cashier.Product, error) {
	rows, err := t.query(ctx, "SELECT "+productColumns+" FROM products WHERE active ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	defer rows.Close()
	var list []cashier.Product
	index := map[int64]int{}
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, fmt.Errorf("scan product: %w", err)
		}
		index[p.ID] = len(list)
		list = append(list, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	rows.Close()
	if len(list) == 0 {
		return nil, nil
	}
	// One query for the standards of all of them. Outside a transaction a
	// product may have been added since; it is not in index and is skipped.
	standards, err := t.standards(ctx, "WHERE product_id IN (SELECT id FROM products WHERE active) ORDER BY product_id, id")
	if err != nil {
		return nil, err
	}
	for _, s := range standards {
		if i, ok := index[s.ProductID]; ok {
			list[i].Standards = append(list[i].Standards, s)
		}
	}
	return list, nil
}

// standards lists the standards selected by where.
func (t *tx) standards(ctx context.Context, where string, args ...any) ([]cashier.Standard, error) {
	rows, err := t.query(ctx, "SELECT "+standardColumns+" FROM standards "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list standards: %w", err)
	}
	defer rows.Close()
	var list []cashier.Standard
	for rows.Next() {
		s, err := scanStandard(rows)
		if err != nil {
			return nil, fmt.Errorf("scan standard: %w", err)
		}
		list = append(list, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list standards: %w", err)
	}
	return list, nil
}

func (t *tx) InsertStandard(ctx context.Context, s *cashier.Standard) error {
	if s.Stock < 0 {
		return cashier.Errorf(cashier.EINVALID, "stock %d is negative", s.Stock)
	}
	id, err := t.insert(ctx, "INSERT INTO standards (product_id, name, price, stock) VALUES (?, ?, ?, ?)",
		s.ProductID, s.Name, s.Price, s.Stock)
	if err != nil {
		return fmt.Errorf("insert standard: %w", err)
	}
	s.ID = id
	return nil
}

func (t *tx) Standard(ctx context.Context, id int64) (*cashier.Standard, error) {
	s, err := scanStandard(t.queryRow(ctx, "SELECT "+standardColumns+" FROM standards WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "standard", id)
	}
	return &s, nil
}

func (t *tx) SetStock(ctx context.Context, standardID, stock int64) error {
	if stock < 0 {
		return cashier.Errorf(cashier.EINVALID, "stock %d is negative", stock)
	}
	ok, err := t.changed(ctx, "UPDATE standards SET stock = ? WHERE id = ?", stock, standardID)
	if err != nil {
		return fmt.Errorf("set stock of standard %d: %w", standardID, err)
	}
	if !ok {
		return cashier.Errorf(cashier.ENOTFOUND, "standard %d not found", standardID)
	}
	return nil
}

// ReserveStock is one guarded statement: concurrent buyers are serialized on
// the row (PostgreSQL re-checks the condition against the committed row, and
// SQLite has one writer at a time), so the stock never goes below zero.
// A missing standard is reported as not reserved.
func (t *tx) ReserveStock(ctx context.Context, standardID, n int64) (bool, error) {
	if n <= 0 {
		return false, cashier.Errorf(cashier.EINVALID, "cannot reserve %d of standard %d", n, standardID)
	}
	ok, err := t.changed(ctx, "UPDATE standards SET stock = stock - ? WHERE id = ? AND stock >= ?", n, standardID, n)
	if err != nil {
		return false, fmt.Errorf("reserve %d of standard %d: %w", n, standardID, err)
	}
	return ok, nil
}

func (t *tx) ReleaseStock(ctx context.Context, standardID, n int64) error {
	if n <= 0 {
		return cashier.Errorf(cashier.EINVALID, "cannot release %d of standard %d", n, standardID)
	}
	ok, err := t.changed(ctx, "UPDATE standards SET stock = stock + ? WHERE id = ?", n, standardID)
	if err != nil {
		return fmt.Errorf("release %d of standard %d: %w", n, standardID, err)
	}
	if !ok {
		return cashier.Errorf(cashier.ENOTFOUND, "standard %d not found", standardID)
	}
	return nil
}

const schemeColumns = "id, user_id, name, price"

func scanScheme(s interface{ Scan(...any) error }) (cashier.Scheme, error) {
	var sc cashier.Scheme
	err := s.Scan(&sc.ID, &sc.UserID, &sc.Name, &sc.Price)
	return sc, err
}

func (t *tx) InsertScheme(ctx context.Context, s *cashier.Scheme) error {
	id, err := t.insert(ctx, "INSERT INTO schemes (user_id, name, price) VALUES (?, ?, ?)", s.UserID, s.Name, s.Price)
	if err != nil {
		return fmt.Errorf("insert scheme: %w", err)
	}
	s.ID = id
	return nil
}

func (t *tx) Scheme(ctx context.Context, id int64) (*cashier.Scheme, error) {
	s, err := scanScheme(t.queryRow(ctx, "SELECT "+schemeColumns+" FROM schemes WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "scheme", id)
	}
	return &s, nil
}

func (t *tx) SchemesByUser(ctx context.Context, userID string) ([]cashier.Scheme, error) {
	rows, err := t.query(ctx, "SELECT "+schemeColumns+" FROM schemes WHERE user_id = ? ORDER BY id", userID)
	if err != nil {
		return nil, fmt.Errorf("list schemes: %w", err)
	}
	defer rows.Close()
	var list []cashier.Scheme
	for rows.Next() {
		s, err := scanScheme(rows)
		if err != nil {
			return nil, fmt.Errorf("scan scheme: %w", err)
		}
		list = append(list, s)
	}
	return list, rows.Err()
}

const cartItemColumns = "id, user_id, product_id, standard_id, count, created_at"

func scanCartItem(s interface{ Scan(...any) error }) (cashier.CartItem, error) {
	var c cashier.CartItem
	err := s.Scan(&c.ID, &c.UserID, &c.ProductID, &c.StandardID, &c.Count, &c.CreatedAt)
	c.CreatedAt = c.CreatedAt.UTC()
	return c, err
}

// AddToCart inserts the line or adds onto the user's line of the standard in
// one statement. A new line is created at item.CreatedAt (now if zero); a
// merged line keeps its ID and creation time.
func (t *tx) AddToCart(ctx context.Context, item *cashier.CartItem) error {
	if item.Count <= 0 {
		return cashier.Errorf(cashier.EINVALID, "count %d is not positive", item.Count)
	}
	if item.CreatedAt.IsZero() {
		item.CreatedAt = time.Now()
	}
	var id, count int64
	var created time.Time
	err := t.queryRow(ctx, `INSERT INTO cart_items (user_id, product_id, standard_id, count, created_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id, standard_id) DO UPDATE SET count = cart_items.count + excluded.count
		RETURNING id, count, created_at`,
		item.UserID, item.ProductID, item.StandardID, item.Count, dbTime(item.CreatedAt)).Scan(&id, &count, &created)
	if err != nil {
		return fmt.Errorf("add standard %d to cart: %w", item.StandardID, err)
	}
	item.ID, item.Count, item.CreatedAt = id, count, created.UTC()
	return nil
}

func (t *tx) CartItem(ctx context.Context, id int64) (*cashier.CartItem, error) {
	c, err := scanCartItem(t.queryRow(ctx, "SELECT "+cartItemColumns+" FROM cart_items WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "cart item", id)
	}
	return &c, nil
}

func (t *tx) CartItemsByUser(ctx context.Context, userID string) ([]cashier.CartItem, error) {
	rows, err := t.query(ctx, "SELECT "+cartItemColumns+" FROM cart_items WHERE user_id = ? ORDER BY id", userID)
	if err != nil {
		return nil, fmt.Errorf("list cart items: %w", err)
	}
	defer rows.Close()
	var list []cashier.CartItem
	for rows.Next() {
		c, err := scanCartItem(rows)
		if err != nil {
			return nil, fmt.Errorf("scan cart item: %w", err)
		}
		list = append(list, c)
	}
	return list, rows.Err()
}

func (t *tx) SetCartItemCount(ctx context.Context, userID string, id, count int64) (bool, error) {
	if count <= 0 {
		return false, cashier.Errorf(cashier.EINVALID, "count %d is not positive", count)
	}
	ok, err := t.changed(ctx, "UPDATE cart_items SET count = ? WHERE id = ? AND user_id = ?", count, id, userID)
	if err != nil {
		return false, fmt.Errorf("set count of cart item %d: %w", id, err)
	}
	return ok, nil
}

// deleteBatch bounds the placeholders of one DELETE … IN (…).
const deleteBatch = 500

func (t *tx) DeleteCartItems(ctx context.Context, userID string, ids []int64) (int64, error) {
	var total int64
	for len(ids) > 0 {
		batch := ids[:min(len(ids), deleteBatch)]
		ids = ids[len(batch):]
		args := make([]any, 0, len(batch)+1)
		args = append(args, userID)
		for _, id := range batch {
			args = append(args, id)
		}
		n, err := t.exec(ctx, "DELETE FROM cart_items WHERE user_id = ? AND id IN (?"+
			strings.Repeat(", ?", len(batch)-1)+")", args...)
		if err != nil {
			return total, fmt.Errorf("delete cart items: %w", err)
		}
		total += n
	}
	return total, nil
}
