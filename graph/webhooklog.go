package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"

	"resolutioncenter/db"
	"resolutioncenter/graph/model"
	"resolutioncenter/webhook"
)

// The delivery log: a page of deliveries is read in one statement without the
// payloads; its attempts and, when asked for, its payloads in one statement each, by
// the operation's loaders (a delivery's attempts are bounded, a payload is about 14 KB).

// attemptsShown is how many attempts WebhookDelivery.attempts lists at most (the most
// recent): about 18 retries in 72 hours, and a few redeliveries.
const attemptsShown = 20

// primeDeliveries fetches, before a page's deliveries are resolved, the attempts and
// the payloads their selection asks for: one statement each for the whole page,
// however the item resolvers are scheduled (see prime).
func (r *Resolver) primeDeliveries(ctx context.Context, list []db.WebhookDelivery) {
	sel := nodeSelection(ctx, "WebhookDeliveryConnection", "WebhookDeliveryEdge")
	if len(list) == 0 || len(sel) == 0 {
		return
	}
	var attempts, payload bool
	for _, f := range graphql.CollectFields(graphql.GetOperationContext(ctx), sel, []string{"WebhookDelivery"}) {
		attempts = attempts || f.Name == "attempts"
		payload = payload || f.Name == "payload"
	}
	l := r.loaders(ctx)
	var wg sync.WaitGroup
	if attempts {
		keys := make([]string, len(list))
		for i, d := range list {
			keys[i] = d.ID
		}
		wg.Go(func() { l.Attempts.fill(ctx, keys) })
	}
	if payload {
		keys := make([]db.MessageKey, len(list))
		for i, d := range list {
			keys[i] = db.MessageKey{CaseID: d.CaseID, Position: d.Position}
		}
		wg.Go(func() { l.Messages.fill(ctx, keys) })
	}
	wg.Wait()
}

func (r *Resolver) webhookAttempts(ctx context.Context, d *model.WebhookDelivery) ([]*model.WebhookAttempt, error) {
	list, err := r.loaders(ctx).Attempts.Load(ctx, d.D.ID)
	if err != nil {
		return nil, err
	}
	out := make([]*model.WebhookAttempt, 0, len(list))
	for _, a := range list {
		out = append(out, &model.WebhookAttempt{A: a})
	}
	return out, nil
}

// webhookPayload is a delivery's body. A delivery read alone carries its message; one
// listed does not (Data is empty: a payload is never empty), and its message comes
// from the loader, which a page fills at once.
func (r *Resolver) webhookPayload(ctx context.Context, d *model.WebhookDelivery) (string, error) {
	del := d.D
	if del.Data == "" {
		m, err := r.loaders(ctx).Messages.Load(ctx, db.MessageKey{CaseID: del.CaseID, Position: del.Position})
		if err != nil {
			return "", err
		}
		del.Data, del.Previous = m.Data, m.Previous
	}
	return string(webhook.Body(del)), nil
}
