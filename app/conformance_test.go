package app_test

import (
	"testing"

	"cashier/app"
	"cashier/channel/channeltest"
)

// Every channel of cashier's list passes the conformance suite against its
// simulator, in each of its variants, on both databases.
func TestChannelConformance(t *testing.T) {
	channeltest.Run(t, app.Channels())
}
