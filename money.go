package cashier

import (
	"fmt"
	"strconv"
	"strings"
)

// FormatYuan renders an amount in fen as a yuan string with two decimals
// ("0.01"), as the channels that speak yuan expect.
func FormatYuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

// ParseYuan parses a yuan amount ("9", "9.5", "9.00") into fen, exactly: no
// floating point, and more than two decimals is an error.
func ParseYuan(s string) (int64, error) {
	bad := Errorf(EINVALID, "amount %q is not a yuan amount", s)
	if s == "" || len(s) > 20 {
		return 0, bad
	}
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && (frac == "" || len(frac) > 2)) {
		return 0, bad
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, bad
			}
		}
	}
	for len(frac) < 2 {
		frac += "0"
	}
	yuan, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || yuan > 1e15 {
		return 0, bad
	}
	cents, _ := strconv.ParseInt(frac, 10, 64)
	fen := yuan*100 + cents
	if neg {
		fen = -fen
	}
	return fen, nil
}
