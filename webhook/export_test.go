package webhook

import (
	"context"

	"resolutioncenter/db"
)

// CachedEndpoint returns the endpoint through the workers' cache (reading and caching
// it when it is not fresh there).
func (s *Service) CachedEndpoint(ctx context.Context, id string) (db.WebhookEndpoint, error) {
	return s.endpoint(ctx, id)
}
