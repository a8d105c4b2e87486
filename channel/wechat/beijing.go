package wechat

import (
	"fmt"
	"time"

	// WeChat Pay's timestamps are Beijing time; the embedded zone database
	// makes that work on hosts without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// v2TimeLayout is the layout of v2 times (time_expire, time_end): yyyyMMddHHmmss, Beijing.
const v2TimeLayout = "20060102150405"

func beijingLocation() (*time.Location, error) {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return nil, fmt.Errorf("wechat: load Beijing time zone: %w", err)
	}
	return loc, nil
}

// parseV2Time parses a v2 time, Beijing; "" is the zero time.
func (w *WeChat) parseV2Time(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.ParseInLocation(v2TimeLayout, s, w.beijing)
}

// parseV3Time parses a v3 time (RFC 3339 with the offset); "" is the zero time.
func parseV3Time(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339, s)
}
