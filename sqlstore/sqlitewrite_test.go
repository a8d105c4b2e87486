package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"cashier"
)

// Writes that queue while SQLite commits run next in one group, and each
// keeps its own outcome: a failed one and a panicking one leave nothing
// behind and get their error or panic back, the others commit. Every caller
// learns its result only once the group committed.
func TestSQLiteGroupCommit(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "cashier.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	insert := func(name string) func(cashier.Tx) error {
		return func(tx cashier.Tx) error {
			return tx.InsertPackage(ctx, &cashier.Package{Name: name, Price: 100, Active: true})
		}
	}
	// The first write holds the commit until the others have queued, so
	// that they form one group behind it.
	const queued = 20
	started, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- db.Update(ctx, func(tx cashier.Tx) error {
			close(started)
			<-release
			return insert("first")(tx)
		})
	}()
	<-started
	errNo := errors.New("refused")
	results := make([]error, queued)
	panics := make([]any, queued)
	var wg sync.WaitGroup
	for i := range queued {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			results[i] = db.Update(ctx, func(tx cashier.Tx) error {
				name := fmt.Sprint("w", i)
				if err := insert(name)(tx); err != nil {
					return err
				}
				switch i % 5 {
				case 1:
					return errNo // after writing: rolled back to its savepoint
				case 2:
					if i == 2 {
						panic("boom")
					}
				}
				return nil
			})
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		db.writes.mu.Lock()
		n := len(db.writes.queue)
		db.writes.mu.Unlock()
		if n == queued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", n, queued)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	want := 1
	for i := range queued {
		switch {
		case i%5 == 1:
			if !errors.Is(results[i], errNo) {
				t.Errorf("write %d: %v, want its own error", i, results[i])
			}
		case i == 2:
			if panics[i] != "boom" {
				t.Errorf("write 2: panic %v, want its own", panics[i])
			}
		default:
			want++
			if results[i] != nil || panics[i] != nil {
				t.Errorf("write %d: %v %v", i, results[i], panics[i])
			}
		}
	}
	var n int
	if err := db.SQL().QueryRow("SELECT COUNT(*) FROM packages").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Errorf("%d packages written, want %d (the failed and the panicking ones leave nothing)", n, want)
	}
	for i := range queued {
		var c int
		db.SQL().QueryRow("SELECT COUNT(*) FROM packages WHERE name = ?", fmt.Sprint("w", i)).Scan(&c)
		if ok := i%5 != 1 && i != 2; (c == 1) != ok {
			t.Errorf("write %d: %d rows", i, c)
		}
	}
}
