package sqlstore

import (
	"database/sql"
	"time"
)

// dbTime is how a time goes into the database: UTC, and NULL for the zero time.
func dbTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// fromNull turns a scanned nullable time into a time, zero for NULL.
func fromNull(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}
