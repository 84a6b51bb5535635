package graph

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"

	"resolutioncenter/auth"
	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/graph/model"
	"resolutioncenter/ids"
	"resolutioncenter/webhook"
)

// Webhook endpoints belong to a company (or, with no company, to the platform). A
// merchant (company key, or team member) manages its companies' endpoints, the
// platform every endpoint; reading needs READ, changing MANAGE. An endpoint the caller
// does not manage is NOT_FOUND, like any foreign ID.

var errNoEndpoint = &dispute.Error{Code: dispute.CodeNotFound, Field: "id", Message: "no webhook endpoint with this ID"}

// errNoEndpointID is errNoEndpoint for inputs that name the endpoint endpointId.
var errNoEndpointID = &dispute.Error{Code: dispute.CodeNotFound, Field: "endpointId", Message: errNoEndpoint.Message}

// manages is the authorization check of every endpoint operation.
func manages(p *auth.Principal) webhook.Check {
	return func(e db.WebhookEndpoint) error {
		if p.Kind == auth.KindPlatform || (e.CompanyID != "" && slices.Contains(p.MerchantOf(), e.CompanyID)) {
			return nil
		}
		return errNoEndpoint
	}
}

func (r *Resolver) webhooks() (*webhook.Service, error) {
	if r.Webhooks == nil {
		return nil, webhook.ErrNoKey
	}
	return r.Webhooks, nil
}

func wireTypes(list []model.WebhookEventType) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, t := range list {
		out[i] = t.WireName()
	}
	return out
}

// endpointCompany decides the company of a new endpoint from the input and the caller.
func endpointCompany(p *auth.Principal, companyID *string) (string, error) {
	if companyID != nil && !ids.Is(*companyID, ids.Company) {
		return "", dispute.Invalid("companyId", "not a company ID")
	}
	if p.Kind == auth.KindPlatform {
		return str(companyID), nil
	}
	mine := p.MerchantOf()
	switch {
	case companyID != nil && slices.Contains(mine, *companyID):
		return *companyID, nil
	case companyID != nil:
		return "", &dispute.Error{Code: dispute.CodeNotFound, Field: "companyId", Message: "no company with this ID"}
	case len(mine) == 1:
		return mine[0], nil
	case len(mine) == 0:
		return "", dispute.Forbidden("only a merchant or the platform may register webhook endpoints")
	}
	return "", dispute.Invalid("companyId", "you act for several companies: say which")
}

func (r *Resolver) createWebhookEndpoint(ctx context.Context, in model.CreateWebhookEndpointInput) (*model.CreateWebhookEndpointPayload, error) {
	p, err := manager(ctx)
	if err != nil {
		return nil, err
	}
	s, err := r.webhooks()
	if err != nil {
		return nil, err
	}
	company, err := endpointCompany(p, in.CompanyID)
	if err == nil && company != "" && p.Kind == auth.KindPlatform {
		if _, err = r.company(ctx, company); err != nil {
			err = &dispute.Error{Code: dispute.CodeNotFound, Field: "companyId", Message: "no company with this ID"}
		}
	}
	if err != nil {
		ue, err := userErrors(err)
		return &model.CreateWebhookEndpointPayload{UserErrors: ue}, err
	}
	ep, secret, err := s.Create(ctx, webhook.EndpointInput{CompanyID: company, URL: in.URL, EventTypes: wireTypes(in.EventTypes),
		Description: str(in.Description)}, r.now())
	if err != nil {
		ue, err := userErrors(err)
		return &model.CreateWebhookEndpointPayload{UserErrors: ue}, err
	}
	return &model.CreateWebhookEndpointPayload{Endpoint: &model.WebhookEndpoint{E: ep}, Secret: &secret, UserErrors: []*model.UserError{}}, nil
}

// endpointResult turns the outcome of an endpoint change into its payload.
func endpointResult(ep db.WebhookEndpoint, err error) (*model.WebhookEndpointPayload, error) {
	if err != nil {
		ue, err := userErrors(err)
		return &model.WebhookEndpointPayload{UserErrors: ue}, err
	}
	return &model.WebhookEndpointPayload{Endpoint: &model.WebhookEndpoint{E: ep}, UserErrors: []*model.UserError{}}, nil
}

// endpointOp checks the caller and the ID of an endpoint operation (endpointCheck with
// the endpoint's own NOT_FOUND).
func (r *Resolver) endpointOp(ctx context.Context, id string) (*webhook.Service, webhook.Check, error) {
	return r.endpointCheck(ctx, id, ids.WebhookEndpoint, errNoEndpoint)
}

func (r *Resolver) updateWebhookEndpoint(ctx context.Context, in model.UpdateWebhookEndpointInput) (*model.WebhookEndpointPayload, error) {
	s, check, err := r.endpointOp(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return endpointResult(s.Update(ctx, in.ID, check, webhook.EndpointPatch{URL: in.URL, EventTypes: wireTypes(in.EventTypes),
		Description: in.Description, Enabled: in.Enabled}, r.now()))
}

func (r *Resolver) disableWebhookEndpoint(ctx context.Context, in model.DisableWebhookEndpointInput) (*model.WebhookEndpointPayload, error) {
	s, check, err := r.endpointOp(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return endpointResult(s.Disable(ctx, in.ID, check, str(in.Reason), r.now()))
}

func (r *Resolver) rotateWebhookSecret(ctx context.Context, in model.RotateWebhookSecretInput) (*model.RotateWebhookSecretPayload, error) {
	s, check, err := r.endpointOp(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	ep, secret, err := s.Rotate(ctx, in.ID, check, r.now())
	if err != nil {
		ue, err := userErrors(err)
		return &model.RotateWebhookSecretPayload{UserErrors: ue}, err
	}
	return &model.RotateWebhookSecretPayload{Endpoint: &model.WebhookEndpoint{E: ep}, Secret: &secret, UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) deleteWebhookEndpoint(ctx context.Context, in model.DeleteWebhookEndpointInput) (*model.DeleteWebhookEndpointPayload, error) {
	s, check, err := r.endpointOp(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if err := s.Delete(ctx, in.ID, check); err != nil {
		ue, err := userErrors(err)
		return &model.DeleteWebhookEndpointPayload{UserErrors: ue}, err
	}
	id := in.ID
	return &model.DeleteWebhookEndpointPayload{DeletedID: &id, UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) redeliverWebhook(ctx context.Context, in model.RedeliverWebhookInput) (*model.RedeliverWebhookPayload, error) {
	s, check, err := r.endpointCheck(ctx, in.DeliveryID, ids.WebhookDelivery,
		&dispute.Error{Code: dispute.CodeNotFound, Field: "deliveryId", Message: "no webhook delivery with this ID"})
	if err != nil {
		return nil, err
	}
	d, err := s.Redeliver(ctx, in.DeliveryID, check, r.now())
	if err != nil {
		ue, err := userErrors(err)
		return &model.RedeliverWebhookPayload{UserErrors: ue}, err
	}
	return &model.RedeliverWebhookPayload{Delivery: &model.WebhookDelivery{D: d}, UserErrors: []*model.UserError{}}, nil
}

// readEndpoint loads an endpoint the reader manages, or nil.
func (r *Resolver) readEndpoint(ctx context.Context, id string) (*model.WebhookEndpoint, error) {
	p, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	if !ids.Is(id, ids.WebhookEndpoint) {
		return nil, nil
	}
	ep, err := r.DB.WebhookEndpointByID(ctx, id)
	if dispute.CodeOf(err) == dispute.CodeNotFound || (err == nil && manages(p)(ep) != nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &model.WebhookEndpoint{E: ep}, nil
}

// Cursors of webhook connections: base64 of a tag and the row ID.
func webhookCursor(tag, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tag + ":" + id))
}

func parseWebhookCursor(tag string, after *string, prefix string) (string, error) {
	if after == nil {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*after)
	id, ok := strings.CutPrefix(string(b), tag+":")
	if err != nil || !ok || !ids.Is(id, prefix) {
		return "", dispute.Invalid("after", "not a cursor of this list")
	}
	return id, nil
}

func webhookPageSize(first *int) (int, error) {
	if first == nil {
		return defaultPageSize, nil
	}
	if *first < 0 || *first > maxPageSize {
		return 0, dispute.Invalid("first", "must be between 0 and 100")
	}
	return *first, nil
}

// toEndpointPage validates webhookEndpoints' arguments: the page size, the cursor's
// endpoint and the company. It reads nothing, so that an operation can be checked
// before it runs (argcheck.go).
func toEndpointPage(companyID *string, first *int, after *string) (n int, cur, company string, err error) {
	if n, err = webhookPageSize(first); err != nil {
		return 0, "", "", err
	}
	if cur, err = parseWebhookCursor("whep", after, ids.WebhookEndpoint); err != nil {
		return 0, "", "", err
	}
	if company, err = optionalID(companyID, ids.Company, "companyId", "company"); err != nil {
		return 0, "", "", err
	}
	return n, cur, company, nil
}

func (r *Resolver) webhookEndpoints(ctx context.Context, companyID *string, first *int, after *string) (*model.WebhookEndpointConnection, error) {
	p, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	n, cur, company, err := toEndpointPage(companyID, first, after)
	if err != nil {
		return nil, err
	}
	f := db.EndpointFilter{All: p.Kind == auth.KindPlatform, CompanyIDs: p.MerchantOf(), CompanyID: company}
	list, err := r.DB.ListWebhookEndpoints(ctx, f, cur, n+1)
	if err != nil {
		return nil, err
	}
	conn := &model.WebhookEndpointConnection{Edges: []*model.WebhookEndpointEdge{}, Nodes: []*model.WebhookEndpoint{}}
	more := len(list) > n
	list = list[:min(len(list), n)]
	var start, end string
	for i, e := range list {
		node := &model.WebhookEndpoint{E: e}
		c := webhookCursor("whep", e.ID)
		if i == 0 {
			start = c
		}
		end = c
		conn.Edges = append(conn.Edges, &model.WebhookEndpointEdge{Cursor: c, Node: node})
		conn.Nodes = append(conn.Nodes, node)
	}
	conn.PageInfo = pageInfo(after != nil, more, start, end)
	return conn, nil
}

// toDeliveryPage validates deliveries' arguments: the page size, the cursor's delivery
// and the filter. It reads nothing, so that an operation can be checked before it runs
// (argcheck.go).
func toDeliveryPage(status *model.WebhookDeliveryStatus, resolutionID *string, first *int, after *string) (n int, cur string,
	f db.DeliveryFilter, err error) {
	if n, err = webhookPageSize(first); err != nil {
		return 0, "", f, err
	}
	if cur, err = parseWebhookCursor("msg", after, ids.WebhookDelivery); err != nil {
		return 0, "", f, err
	}
	if status != nil {
		f.Status = strings.ToLower(string(*status))
	}
	if f.CaseID, err = optionalID(resolutionID, ids.Resolution, "resolutionId", "case"); err != nil {
		return 0, "", db.DeliveryFilter{}, err
	}
	return n, cur, f, nil
}

func (r *Resolver) webhookDeliveries(ctx context.Context, ep *model.WebhookEndpoint, status *model.WebhookDeliveryStatus, resolutionID *string, first *int, after *string) (*model.WebhookDeliveryConnection, error) {
	n, cur, f, err := toDeliveryPage(status, resolutionID, first, after)
	if err != nil {
		return nil, err
	}
	list, err := r.DB.ListWebhookDeliveries(ctx, ep.E.ID, f, cur, n+1)
	if err != nil {
		return nil, err
	}
	conn := &model.WebhookDeliveryConnection{Edges: []*model.WebhookDeliveryEdge{}, Nodes: []*model.WebhookDelivery{}}
	more := len(list) > n
	list = list[:min(len(list), n)]
	var start, end string
	for i, d := range list {
		node := &model.WebhookDelivery{D: d}
		c := webhookCursor("msg", d.ID)
		if i == 0 {
			start = c
		}
		end = c
		conn.Edges = append(conn.Edges, &model.WebhookDeliveryEdge{Cursor: c, Node: node})
		conn.Nodes = append(conn.Nodes, node)
	}
	conn.PageInfo = pageInfo(after != nil, more, start, end)
	r.primeDeliveries(ctx, list)
	return conn, nil
}

func (r *Resolver) redeliverFailedWebhooks(ctx context.Context, in model.RedeliverFailedWebhooksInput) (*model.RedeliverFailedWebhooksPayload, error) {
	s, check, err := r.endpointCheck(ctx, in.EndpointID, ids.WebhookEndpoint, errNoEndpointID)
	if err != nil {
		return nil, err
	}
	ep, n, more, err := s.RedeliverFailed(ctx, in.EndpointID, in.Since, check, r.now())
	if dispute.CodeOf(err) == dispute.CodeNotFound {
		err = errNoEndpointID // an unknown endpoint, named by this input's field
	}
	if err != nil {
		ue, err := userErrors(err)
		return &model.RedeliverFailedWebhooksPayload{UserErrors: ue}, err
	}
	return &model.RedeliverFailedWebhooksPayload{Endpoint: &model.WebhookEndpoint{E: ep}, Requeued: n, HasMore: more,
		UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) sendTestWebhook(ctx context.Context, in model.SendTestWebhookInput) (*model.SendTestWebhookPayload, error) {
	s, check, err := r.endpointCheck(ctx, in.EndpointID, ids.WebhookEndpoint, errNoEndpointID)
	if err != nil {
		return nil, err
	}
	ep, a, err := s.SendTest(ctx, in.EndpointID, check)
	if dispute.CodeOf(err) == dispute.CodeNotFound {
		err = errNoEndpointID
	}
	if err != nil {
		ue, err := userErrors(err)
		return &model.SendTestWebhookPayload{UserErrors: ue}, err
	}
	id := a.DeliveryID
	return &model.SendTestWebhookPayload{Endpoint: &model.WebhookEndpoint{E: ep}, WebhookID: &id, Attempt: &model.WebhookAttempt{A: a},
		UserErrors: []*model.UserError{}}, nil
}

// endpointCheck is what every endpoint and delivery mutation checks first: the caller manages
// endpoints, webhooks are configured, and id has the prefix kind. The check it returns
// answers notFound (named by the mutation's own input field) for an endpoint the caller
// does not manage, as for one that does not exist.
func (r *Resolver) endpointCheck(ctx context.Context, id, kind string, notFound *dispute.Error) (*webhook.Service, webhook.Check, error) {
	p, err := manager(ctx)
	if err != nil {
		return nil, nil, err
	}
	s, err := r.webhooks()
	if err != nil {
		return nil, nil, err
	}
	if !ids.Is(id, kind) {
		return nil, nil, notFound
	}
	return s, func(e db.WebhookEndpoint) error {
		if manages(p)(e) != nil {
			return notFound
		}
		return nil
	}, nil
}
