package channel

import "unicode/utf8"

// Clip keeps the first n characters of s: channels bound their text fields
// (subjects, refund reasons) in characters.
func Clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
