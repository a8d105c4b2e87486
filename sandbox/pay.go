package sandbox

import (
	"fmt"
	"net/http"
)

// ReadPayForm reads the form of POST /sandbox/{channel}/pay: result is
// success (the default) or fail; the simulator reads the rest (out_trade_no…)
// from r.PostForm. invalidCode is the channel's code for a bad parameter.
func ReadPayForm(w http.ResponseWriter, r *http.Request, invalidCode string) (paid bool, rf *Refusal) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxForm)
	if err := r.ParseForm(); err != nil {
		return false, &Refusal{Status: http.StatusBadRequest, Code: invalidCode, Reason: "the form cannot be read: " + err.Error()}
	}
	switch result := r.PostFormValue("result"); result {
	case "", "success":
		return true, nil
	case "fail":
		return false, nil
	default:
		return false, &Refusal{Status: http.StatusBadRequest, Code: invalidCode, Reason: fmt.Sprintf("result %q must be success or fail", result)}
	}
}

// WriteRefusal answers a refused POST /sandbox/{channel}/pay: a browser gets
// the simulator's error page; an API client the answer, when the trade got
// that far, or {"code", "error"}.
func WriteRefusal(w http.ResponseWriter, r *http.Request, rf *Refusal, answer *PayAnswer,
	errorPage func(w http.ResponseWriter, r *http.Request, status int, code, reason string)) {
	switch {
	case WantsHTML(r):
		errorPage(w, r, rf.Status, rf.Code, rf.Reason)
	case answer != nil:
		WriteJSON(w, rf.Status, answer)
	default:
		WriteJSON(w, rf.Status, map[string]string{"code": rf.Code, "error": rf.Reason})
	}
}
