package apple

import (
	"encoding/json"
	"net/http"
	"strconv"

	"cashier/sandbox"
)

// verifyReceipt answers verifyReceipt as Apple's host does: every receipt
// the simulator makes is a sandbox one, so the production host answers
// 21007 for it. Unknown receipts are 21002, a wrong password 21004.
func (s *Apple) verifyReceipt(sandboxHost bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 2<<20)
		var req struct {
			Receipt  string `json:"receipt-data"`
			Password string `json:"password"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeStatus(w, 21000)
			return
		}
		if answered, _ := s.faults.Fail(w, r, sandbox.OpQuery, func(code, _ string) {
			n, _ := strconv.Atoi(code)
			writeStatus(w, n)
		}); answered {
			return
		}
		s.mu.Lock()
		ids, ok := s.receipts[req.Receipt]
		var entries []map[string]string
		for _, id := range ids {
			t := s.transactions[id]
			e := map[string]string{"quantity": strconv.Itoa(t.Quantity), "product_id": t.ProductID,
				"transaction_id": t.TransactionID, "original_transaction_id": t.OriginalTransactionID,
				"purchase_date_ms": strconv.FormatInt(t.PurchaseDate, 10), "in_app_ownership_type": t.InAppOwnershipType}
			if t.RevocationDate != 0 {
				e["cancellation_date_ms"] = strconv.FormatInt(t.RevocationDate, 10)
			}
			entries = append(entries, e)
		}
		s.mu.Unlock()
		switch {
		case !ok:
			writeStatus(w, 21002)
		case !sandboxHost:
			writeStatus(w, 21007)
		case req.Password != s.SharedSecret:
			writeStatus(w, 21004)
		default:
			json.NewEncoder(w).Encode(map[string]any{"status": 0, "environment": "Sandbox",
				"receipt": map[string]any{"bundle_id": s.BundleID, "receipt_type": "ProductionSandbox", "in_app": entries}})
		}
	}
}

func writeStatus(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]int{"status": status})
}
