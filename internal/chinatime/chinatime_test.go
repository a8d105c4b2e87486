package chinatime

import (
	"testing"
	"time"
)

func TestChinaStandardTime(t *testing.T) {
	utc := time.Date(2026, 7, 1, 16, 30, 0, 0, time.UTC) // summer: no daylight saving either
	if got := In(utc).Format("2006-01-02 15:04:05"); got != "2026-07-02 00:30:00" {
		t.Errorf("In: %s", got)
	}
	p, err := Parse("20060102150405", "20261123180000")
	if err != nil || !p.Equal(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("Parse: %v %v", p, err)
	}
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Skip("no time zone database here")
	}
	for _, at := range []time.Time{utc, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if _, off := at.In(shanghai).Zone(); off != 8*3600 {
			t.Errorf("Asia/Shanghai at %v is %d, not +8", at, off)
		}
	}
}
