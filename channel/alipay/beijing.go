package alipay

import (
	// gopay loads Alipay's time zone by name ("Asia/Shanghai"): the embedded
	// zone database makes that work on hosts without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// timeLayout is the layout of every Alipay timestamp, in China Standard Time.
const timeLayout = "2006-01-02 15:04:05"
