package app

import (
	"context"
	"time"

	"cashier"
)

// DemoUser is the user the sandbox's development token is for.
const DemoUser = "demo"

// seedDemo gives an empty sandbox database a small catalog (packages, products
// with stock), and for the demo user a coupon, a customized scheme and a
// shipping address, so that a newcomer can buy something at once.
func seedDemo(ctx context.Context, store cashier.Store, now time.Time) error {
	return store.Update(ctx, func(tx cashier.Tx) error {
		existing, err := tx.Packages(ctx)
		if err != nil || len(existing) > 0 {
			return err
		}
		packages := []cashier.Package{
			{Name: "Starter pack 60 gold", Price: 600, AppleProductID: "com.example.gold60", Gold: 60, Active: true},
			{Name: "Monthly card", Price: 3000, AppleProductID: "com.example.monthly", Gold: 300, Diamond: 30, Active: true},
			{Name: "Supreme 20-day pack", Price: 19800, AppleProductID: "com.example.supreme20", Gold: 2000, Diamond: 200, Active: true},
		}
		for i := range packages {
			if err := tx.InsertPackage(ctx, &packages[i]); err != nil {
				return err
			}
		}
		err = tx.InsertCoupon(ctx, &cashier.Coupon{
			UserID: DemoUser, Name: "5 yuan off orders of 20 yuan", Discount: 500, MinAmount: 2000,
			ExpiresAt: now.AddDate(1, 0, 0), Status: cashier.CouponAvailable,
		})
		if err != nil {
			return err
		}
		products := []cashier.Product{
			{Name: "Oak dining chair", Active: true, Standards: []cashier.Standard{
				{Name: "natural", Price: 39900, Stock: 20}, {Name: "walnut stain", Price: 42900, Stock: 10}}},
			{Name: "Linen sofa", Active: true, Standards: []cashier.Standard{
				{Name: "two seats", Price: 259900, Stock: 5}, {Name: "three seats", Price: 329900, Stock: 3}}},
		}
		for i := range products {
			if err := tx.InsertProduct(ctx, &products[i]); err != nil {
				return err
			}
		}
		if err := tx.InsertScheme(ctx, &cashier.Scheme{UserID: DemoUser, Name: "Built-in wardrobe, 2.4 m", Price: 880000}); err != nil {
			return err
		}
		// One address, not marked default: the settlement page still offers it.
		return tx.InsertAddress(ctx, &cashier.Address{UserID: DemoUser, Name: "Li Lei", Phone: "13800000000",
			Region: "Shanghai Pudong", Detail: "100 Century Avenue, flat 1201"})
	})
}
