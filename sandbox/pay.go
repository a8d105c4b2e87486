package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
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

// PayHandler is POST /sandbox/{channel}/pay of a simulator that pays by
// out_trade_no: it reads the form, pays through sim.Pay, and answers a
// browser with pages' "result" page (or its error page) and an API client
// with the PayAnswer. invalidCode is the channel's code for a bad parameter.
func PayHandler(sim Simulator, pages *Pages, log *slog.Logger, invalidCode string) http.HandlerFunc {
	errorPage := func(w http.ResponseWriter, r *http.Request, status int, code, reason string) {
		pages.RenderError(w, r, log, status, code, reason)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		paid, rf := ReadPayForm(w, r, invalidCode)
		if rf != nil {
			WriteRefusal(w, r, rf, nil, errorPage)
			return
		}
		answer, err := sim.Pay(r.Context(), r.PostFormValue("out_trade_no"), paid, false)
		if err != nil {
			if !errors.As(err, &rf) {
				rf = &Refusal{Status: http.StatusInternalServerError, Code: invalidCode, Reason: err.Error()}
			}
			WriteRefusal(w, r, rf, answer, errorPage)
			return
		}
		if WantsHTML(r) {
			pages.Render(w, r, log, http.StatusOK, "result", answer)
			return
		}
		WriteJSON(w, http.StatusOK, answer)
	}
}
