package app

import (
	"cashier/channel"
	"cashier/channel/adapay"
	"cashier/channel/alipay"
	"cashier/channel/apple"
	"cashier/channel/ipaynow"
	"cashier/channel/quicksdk"
	"cashier/channel/wechat"
	"cashier/channel/yijie"
	adapaysim "cashier/sandbox/adapay"
	alipaysim "cashier/sandbox/alipay"
	applesim "cashier/sandbox/apple"
	ipaynowsim "cashier/sandbox/ipaynow"
	quicksdksim "cashier/sandbox/quicksdk"
	wechatsim "cashier/sandbox/wechat"
	yijiesim "cashier/sandbox/yijie"
)

// Channels is cashier's list of payment channels: one line per channel, its
// Spec with its simulator. Everything that enumerates channels derives from
// it.
func Channels() []channel.Spec {
	return []channel.Spec{
		alipay.Spec(alipaysim.Open),
		wechat.Spec(wechatsim.Open),
		ipaynow.Spec(ipaynowsim.Open),
		adapay.Spec(adapaysim.Open),
		apple.Spec(applesim.Open),
		yijie.Spec(yijiesim.Open),
		quicksdk.Spec(quicksdksim.Open),
	}
}
