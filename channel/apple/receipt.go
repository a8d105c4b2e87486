package apple

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"cashier"
)

// maxReceipt bounds an app receipt (base64): they grow with the purchases
// they hold, a few KiB to a few hundred; within cashier's 1 MiB bound on a request.
const maxReceipt = 768 << 10

// receiptAnswer is verifyReceipt's answer: the fields cashier reads.
type receiptAnswer struct {
	Status      int    `json:"status"`
	Environment string `json:"environment"`
	Receipt     struct {
		BundleID string         `json:"bundle_id"`
		InApp    []receiptEntry `json:"in_app"`
	} `json:"receipt"`
}

// receiptEntry is one purchase of a receipt; numbers come as strings.
type receiptEntry struct {
	ProductID             string `json:"product_id"`
	TransactionID         string `json:"transaction_id"`
	OriginalTransactionID string `json:"original_transaction_id"`
	PurchaseDateMS        string `json:"purchase_date_ms"`
	Quantity              string `json:"quantity"`
	CancellationDateMS    string `json:"cancellation_date_ms"`
}

// verifyReceipt status codes cashier acts on.
const (
	receiptValid          = 0
	receiptSecretMismatch = 21004
	receiptFromSandbox    = 21007
)

// verifyReceipt asks Apple about an old client's receipt — production
// first, its sandbox when Apple says the receipt is a sandbox one — and
// returns its purchases, each naming no attempt: cashier matches them to
// the order by product.
func (a *Apple) verifyReceipt(ctx context.Context, receipt string) ([]cashier.Notification, error) {
	if a.cfg.SharedSecret == "" {
		return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "receipts of old clients are not accepted here: apple.shared_secret_file is not set")
	}
	if len(receipt) > maxReceipt {
		return nil, cashier.Errorf(cashier.EINVALID, "receipt_data is longer than %d bytes", maxReceipt)
	}
	ans, err := a.postReceipt(ctx, a.cfg.VerifyReceiptURL, receipt)
	if err != nil {
		return nil, err
	}
	if ans.Status == receiptFromSandbox {
		if !a.cfg.AcceptSandbox {
			return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "a sandbox receipt: not accepted here (apple.accept_sandbox is false)")
		}
		if ans, err = a.postReceipt(ctx, a.cfg.SandboxVerifyReceiptURL, receipt); err != nil {
			return nil, err
		}
	}
	switch ans.Status {
	case receiptValid:
	case receiptSecretMismatch:
		a.log.ErrorContext(ctx, "verifyReceipt refused the shared secret: check apple.shared_secret_file")
		return nil, cashier.Errorf(cashier.ECHANNEL, "Apple could not check the receipt (status %d)", ans.Status)
	default:
		if ans.Status >= 21100 && ans.Status <= 21199 || ans.Status == 21005 || ans.Status == 21009 {
			return nil, cashier.Errorf(cashier.ECHANNEL, "Apple could not check the receipt now (status %d)", ans.Status)
		}
		return nil, cashier.Errorf(cashier.EFORBIDDEN, "Apple did not accept the receipt (status %d)", ans.Status)
	}
	if err := a.checkApp(ans.Receipt.BundleID, ans.Environment); err != nil {
		return nil, err
	}
	var out []cashier.Notification
	for _, e := range ans.Receipt.InApp {
		if e.TransactionID == "" || e.ProductID == "" || e.CancellationDateMS != "" || (e.Quantity != "" && e.Quantity != "1") {
			continue
		}
		n := cashier.Notification{ChannelTradeNo: e.TransactionID, ProductID: e.ProductID, Status: cashier.NotifyPaid,
			RawStatus: "verifyReceipt in_app", Environment: ans.Environment, Claims: claims(e.TransactionID, e.OriginalTransactionID)}
		if ms, err := strconv.ParseInt(e.PurchaseDateMS, 10, 64); err == nil && ms > 0 {
			n.PaidAt = time.UnixMilli(ms).UTC()
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "the receipt holds no purchase an order can use")
	}
	return out, nil
}

// postReceipt posts the receipt to one verifyReceipt host.
func (a *Apple) postReceipt(ctx context.Context, endpoint, receipt string) (*receiptAnswer, error) {
	body, err := json.Marshal(map[string]any{"receipt-data": receipt, "password": a.cfg.SharedSecret, "exclude-old-transactions": true})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, cashier.WrapError(err, cashier.ECHANNEL, "could not reach Apple's verifyReceipt")
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, cashier.WrapError(err, cashier.ECHANNEL, "could not read Apple's verifyReceipt answer")
	}
	if resp.StatusCode != http.StatusOK {
		return nil, cashier.Errorf(cashier.ECHANNEL, "Apple's verifyReceipt answered HTTP %d", resp.StatusCode)
	}
	var ans receiptAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return nil, cashier.Errorf(cashier.ECHANNEL, "Apple's verifyReceipt answer (%d bytes) is not JSON", len(raw))
	}
	return &ans, nil
}
