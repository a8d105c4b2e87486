package wechat

import (
	"time"

	"cashier/internal/chinatime"
)

// v2TimeLayout is the layout of v2 times (time_expire, time_end): yyyyMMddHHmmss, Beijing.
const v2TimeLayout = "20060102150405"

// parseV2Time parses a v2 time, Beijing; "" is the zero time.
func (w *WeChat) parseV2Time(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return chinatime.Parse(v2TimeLayout, s)
}

// parseV3Time parses a v3 time (RFC 3339 with the offset); "" is the zero time.
func parseV3Time(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339, s)
}
