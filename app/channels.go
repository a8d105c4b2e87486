package app

import (
	"cashier/channel"
	"cashier/channel/alipay"
	"cashier/channel/wechat"
	alipaysim "cashier/sandbox/alipay"
	wechatsim "cashier/sandbox/wechat"
)

// Channels is cashier's list of payment channels: one line per channel, its
// Spec with its simulator. Everything that enumerates channels derives from
// it.
func Channels() []channel.Spec {
	return []channel.Spec{
		alipay.Spec(alipaysim.Open),
		wechat.Spec(wechatsim.Open),
	}
}
