package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"resolutioncenter/auth"
	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/graph/model"
	"resolutioncenter/ids"
)

// maxIdempotencyKey is the longest idempotency key accepted.
const maxIdempotencyKey = 255

// actionRequest is one action on an existing case, as the resolvers hand it over.
type actionRequest struct {
	action          dispute.Action // what is asked, part of the idempotency check
	input           any            // the mutation's input, hashed for the idempotency check
	caseID          string
	expectedVersion *int
	idempotencyKey  *string
	// decide applies the action for the caller in its role on the case.
	decide func(role dispute.Actor, c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error)
}

// act runs one action: it checks the token, derives the caller's role from the case
// (never from the request), and lets the store apply the decision in one transaction.
func (r *Resolver) act(ctx context.Context, req actionRequest) (*model.ResolutionPayload, error) {
	p, err := manager(ctx)
	if err != nil {
		return nil, err
	}
	if !ids.Is(req.caseID, ids.Resolution) {
		return refused(dispute.Invalid("resolutionId", "not a resolution ID"))
	}
	idem, err := idempotency(p, req.action, req.idempotencyKey, req.input)
	if err != nil {
		return refused(err)
	}
	res, err := r.DB.UpdateCase(ctx, db.Change{
		CaseID: req.caseID, Scope: p.Scope(), ExpectedVersion: req.expectedVersion, Idem: idem, Now: r.now(),
		Budget: r.Policy,
		Decide: func(c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
			return req.decide(p.RoleOn(c), c)
		},
	})
	if err != nil {
		return refused(err)
	}
	renewLoaders(ctx)
	return r.actionPayload(p, res), nil
}

// apply returns a decide function for a plain lifecycle action.
func (r *Resolver) apply(action dispute.Action, in dispute.Input) func(dispute.Actor, dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
	return func(role dispute.Actor, c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
		return r.Policy.Apply(c, role, action, in, r.now())
	}
}

func (r *Resolver) actionPayload(p *auth.Principal, res db.Result) *model.ResolutionPayload {
	return &model.ResolutionPayload{Resolution: r.toResolution(res.Case, p), Event: model.NewEvent(res.Event),
		UserErrors: []*model.UserError{}, Replayed: res.Replayed}
}

// refused turns a refusal into a payload with userErrors, or a top-level error.
func refused(err error) (*model.ResolutionPayload, error) {
	ue, err := userErrors(err)
	if err != nil {
		return nil, err
	}
	return &model.ResolutionPayload{UserErrors: ue}, nil
}

// idempotency validates a key and binds it to the caller and the request.
func idempotency(p *auth.Principal, action dispute.Action, key *string, input any) (*db.Idempotency, error) {
	if key == nil {
		return nil, nil
	}
	k := *key
	if k == "" || utf8.RuneCountInString(k) > maxIdempotencyKey || !utf8.ValidString(k) || strings.ContainsRune(k, 0) {
		return nil, dispute.Invalid("idempotencyKey", "must be 1 to 255 characters")
	}
	b, err := json.Marshal(input)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	return &db.Idempotency{Principal: principalKey(p), Key: k, Operation: string(action), RequestHash: hex.EncodeToString(sum[:])}, nil
}

// principalKey is the caller's identity for idempotency, subscription counts and rate
// limits: the principal (user, company or platform) through any of its tokens, as the
// contract says, not the token.
func principalKey(p *auth.Principal) string { return p.Key() }

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// withoutKey returns a copy of an input with its idempotency key cleared, for hashing.
func withoutKey[T any](in T, clear func(*T)) T {
	clear(&in)
	return in
}

func (r *Resolver) openResolution(ctx context.Context, in model.OpenResolutionInput) (*model.ResolutionPayload, error) {
	p, err := manager(ctx)
	if err != nil {
		return nil, err
	}
	if p.Kind != auth.KindUser {
		return nil, dispute.Forbidden("only a customer's user token may open a case")
	}
	if !ids.Is(in.PaymentID, ids.Payment) {
		return refused(dispute.Invalid("paymentId", "not a payment ID"))
	}
	idem, err := idempotency(p, dispute.ActionOpen, in.IdempotencyKey,
		withoutKey(in, func(i *model.OpenResolutionInput) { i.IdempotencyKey = nil }))
	if err != nil {
		return refused(err)
	}
	res, err := r.DB.OpenCase(ctx, *r.Policy, db.OpenRequest{UserID: p.UserID, PaymentID: in.PaymentID,
		Issue: in.Issue, Message: in.Message, Idem: idem}, r.now())
	if err != nil {
		return refused(err)
	}
	renewLoaders(ctx)
	return r.actionPayload(p, res), nil
}

// messageAction runs an action whose input is ResolutionMessageInput.
func (r *Resolver) messageAction(ctx context.Context, action dispute.Action, in model.ResolutionMessageInput) (*model.ResolutionPayload, error) {
	return r.act(ctx, actionRequest{
		action: action, input: withoutKey(in, func(i *model.ResolutionMessageInput) { i.IdempotencyKey = nil }),
		caseID: in.ResolutionID, expectedVersion: in.ExpectedVersion, idempotencyKey: in.IdempotencyKey,
		decide: r.apply(action, dispute.Input{Message: in.Message}),
	})
}

// decideAction runs a platform decision.
func (r *Resolver) decideAction(ctx context.Context, action dispute.Action, in model.DecideResolutionInput) (*model.ResolutionPayload, error) {
	return r.act(ctx, actionRequest{
		action: action, input: withoutKey(in, func(i *model.DecideResolutionInput) { i.IdempotencyKey = nil }),
		caseID: in.ResolutionID, expectedVersion: in.ExpectedVersion, idempotencyKey: in.IdempotencyKey,
		decide: r.apply(action, dispute.Input{Message: str(in.Message)}),
	})
}

func (r *Resolver) withdraw(ctx context.Context, in model.WithdrawResolutionInput) (*model.ResolutionPayload, error) {
	return r.act(ctx, actionRequest{
		action: dispute.ActionWithdraw, input: withoutKey(in, func(i *model.WithdrawResolutionInput) { i.IdempotencyKey = nil }),
		caseID: in.ResolutionID, expectedVersion: in.ExpectedVersion, idempotencyKey: in.IdempotencyKey,
		decide: r.apply(dispute.ActionWithdraw, dispute.Input{Message: str(in.Message)}),
	})
}

func (r *Resolver) accept(ctx context.Context, in model.AcceptResolutionInput) (*model.ResolutionPayload, error) {
	terminate := in.TerminateMembership != nil && *in.TerminateMembership
	return r.act(ctx, actionRequest{
		action: dispute.ActionAccept, input: withoutKey(in, func(i *model.AcceptResolutionInput) { i.IdempotencyKey = nil }),
		caseID: in.ResolutionID, expectedVersion: in.ExpectedVersion, idempotencyKey: in.IdempotencyKey,
		decide: r.apply(dispute.ActionAccept, dispute.Input{Message: str(in.Message), TerminateMembership: terminate}),
	})
}

func (r *Resolver) deny(ctx context.Context, in model.DenyResolutionInput) (*model.ResolutionPayload, error) {
	return r.act(ctx, actionRequest{
		action: dispute.ActionDeny, input: withoutKey(in, func(i *model.DenyResolutionInput) { i.IdempotencyKey = nil }),
		caseID: in.ResolutionID, expectedVersion: in.ExpectedVersion, idempotencyKey: in.IdempotencyKey,
		decide: r.apply(dispute.ActionDeny, dispute.Input{Message: in.Message}),
	})
}

func (r *Resolver) recordChargeback(ctx context.Context, in model.RecordChargebackEventInput) (*model.ResolutionPayload, error) {
	if _, err := platform(ctx); err != nil {
		return nil, err
	}
	return r.act(ctx, actionRequest{
		action: dispute.ActionRecord, input: withoutKey(in, func(i *model.RecordChargebackEventInput) { i.IdempotencyKey = nil }),
		caseID: in.ResolutionID, expectedVersion: in.ExpectedVersion, idempotencyKey: in.IdempotencyKey,
		decide: func(role dispute.Actor, c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
			next, ev, err := r.Policy.Record(c, in.Action, str(in.Details), r.now())
			return next, ev, dispute.Effects{}, err
		},
	})
}
