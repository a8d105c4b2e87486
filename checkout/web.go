package checkout

import (
	"context"

	"cashier"
)

// The checkout page (收银台): a buyer sent there by a merchant pays an
// order in a browser, through the channels that need no app SDK
// (cashier.WebPayer). The page's link is its authority: these use cases
// take the order id, not a user.

// WebMethod is a way to pay on the checkout page.
type WebMethod struct {
	Channel string
	Gateway string
	QR      bool // the link is drawn as a QR code (on a computer)
	// Return is the link's query parameter that sends the buyer back to
	// the page once paid; "" for none.
	Return string
}

// WebMethods lists the enabled channels the checkout page offers, in the
// order of cashier's list: their computer or phone gateway.
func (s *Service) WebMethods(phone bool) []WebMethod {
	var out []WebMethod
	for _, r := range s.registered {
		wp, ok := s.channels[r.Name].(cashier.WebPayer)
		if !ok {
			continue
		}
		gw := wp.WebGateways()
		m := WebMethod{Channel: r.Name, Gateway: gw.Computer, QR: gw.ComputerQR}
		if phone {
			m = WebMethod{Channel: r.Name, Gateway: gw.Phone, Return: gw.PhoneReturn}
		}
		if m.Gateway != "" {
			out = append(out, m)
		}
	}
	return out
}

// CheckoutOrder returns an order with its payments for the checkout page.
func (s *Service) CheckoutOrder(ctx context.Context, id int64) (o *cashier.Order, err error) {
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		o, err = tx.Order(ctx, id)
		return err
	})
	return o, err
}

// WebAttempt returns the link that pays a pending order through m: that of
// its open attempt of the same channel and gateway, so that reloading the
// page draws the same QR code, or of a new attempt (which closes the
// others, as paying again does).
func (s *Service) WebAttempt(ctx context.Context, orderID int64, m WebMethod, clientIP string) (string, error) {
	o, err := s.CheckoutOrder(ctx, orderID)
	if err != nil {
		return "", err
	}
	if o.Status == cashier.OrderPending && !o.Expired(s.now()) {
		for i := len(o.Payments) - 1; i >= 0; i-- {
			p := o.Payments[i]
			if p.Status == cashier.PaymentPending && p.Channel == m.Channel && p.Gateway == m.Gateway {
				if link := cashier.CredentialLink(p.Credential); link != "" {
					return link, nil
				}
			}
		}
	}
	pur, err := s.Pay(ctx, o.UserID, o.ID, PayRequest{Channel: m.Channel, Gateway: m.Gateway, ClientIP: clientIP})
	if err != nil {
		return "", err
	}
	link := cashier.CredentialLink(pur.Payment.Credential)
	if link == "" {
		return "", cashier.Errorf(cashier.EINTERNAL, "%s/%s answered no link to pay with", m.Channel, m.Gateway)
	}
	return link, nil
}
