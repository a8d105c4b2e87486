package app

import (
	"context"
	"time"

	"cashier"
)

// DemoUser is the user the sandbox's development token is for.
const DemoUser = "demo"

// seedDemo gives an empty sandbox database a small catalog and a coupon for the
// demo user, so that a newcomer can buy something at once.
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
		return tx.InsertCoupon(ctx, &cashier.Coupon{
			UserID: DemoUser, Name: "5 yuan off orders of 20 yuan", Discount: 500, MinAmount: 2000,
			ExpiresAt: now.AddDate(1, 0, 0), Status: cashier.CouponAvailable,
		})
	})
}
