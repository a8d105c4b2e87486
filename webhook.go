package cashier

import "time"

// WebhookEndpoint is a merchant's URL that receives events, signed with Secret.
type WebhookEndpoint struct {
	ID        int64
	URL       string
	Secret    string
	Events    []string // the event types it wants; empty: all
	CreatedAt time.Time
}

// Wants reports whether the endpoint subscribes to an event type.
func (e *WebhookEndpoint) Wants(eventType string) bool {
	if len(e.Events) == 0 {
		return true
	}
	for _, t := range e.Events {
		if t == eventType {
			return true
		}
	}
	return false
}

// Delivery is one attempt to deliver an event to an endpoint.
type Delivery struct {
	ID         int64
	EventID    string
	EndpointID int64
	Attempt    int
	StatusCode int    // 0 when no answer came
	Error      string // why it failed; "" on success
	Duration   time.Duration
	CreatedAt  time.Time
}

// DeliveryFilter selects deliveries, newest first.
type DeliveryFilter struct {
	EventID    string // "" = any
	EndpointID int64  // 0 = any
	Limit      int
}

// IdempotencyRecord is what is kept of a request made with an Idempotency-Key:
// a hash of the request, and once it finished, its response.
type IdempotencyRecord struct {
	Scope       string // whose key space: a user id, or "admin"
	Key         string
	RequestHash string
	Done        bool // the response is stored
	Status      int
	Body        []byte
	CreatedAt   time.Time
}
