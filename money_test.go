package cashier_test

import (
	"testing"

	"cashier"
)

func TestFormatYuan(t *testing.T) {
	for fen, want := range map[int64]string{0: "0.00", 1: "0.01", 10: "0.10", 100: "1.00", 123456: "1234.56", -5: "-0.05"} {
		if got := cashier.FormatYuan(fen); got != want {
			t.Errorf("FormatYuan(%d) = %q, want %q", fen, got, want)
		}
	}
}

func TestParseYuan(t *testing.T) {
	good := map[string]int64{"0.01": 1, "1": 100, "1.5": 150, "9.00": 900, "1234.56": 123456, "-0.05": -5, "0": 0}
	for s, want := range good {
		if got, err := cashier.ParseYuan(s); err != nil || got != want {
			t.Errorf("ParseYuan(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", ".5", "1.", "1.234", "1e3", "abc", "1,00", " 1", "0x10", "+1", "99999999999999999999"} {
		if _, err := cashier.ParseYuan(s); cashier.ErrorCode(err) != cashier.EINVALID {
			t.Errorf("ParseYuan(%q) error = %v, want invalid", s, err)
		}
	}
}
