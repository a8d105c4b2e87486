// Package chinatime is China Standard Time, in which every Chinese payment
// channel writes its timestamps (Alipay's "2006-01-02 15:04:05", WeChat Pay's
// "20060102150405", iPayNow's, …): UTC+8, with no daylight saving since 1991,
// so a fixed offset is exact and needs no time zone database.
package chinatime

import "time"

// Location is China Standard Time.
func Location() *time.Location { return time.FixedZone("CST", 8*60*60) }

// In returns t in China Standard Time.
func In(t time.Time) time.Time { return t.In(Location()) }

// Parse reads a timestamp written in China Standard Time with layout.
func Parse(layout, s string) (time.Time, error) { return time.ParseInLocation(layout, s, Location()) }
