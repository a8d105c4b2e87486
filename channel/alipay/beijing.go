package alipay

import (
	"fmt"
	"time"

	// Alipay's timestamps are Beijing time; the embedded zone database makes
	// that work on hosts without /usr/share/zoneinfo (scratch containers).
	_ "time/tzdata"
)

// timeLayout is the layout of every Alipay timestamp.
const timeLayout = "2006-01-02 15:04:05"

func beijingLocation() (*time.Location, error) {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return nil, fmt.Errorf("alipay: load Beijing time zone: %w", err)
	}
	return loc, nil
}
