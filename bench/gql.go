package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// gqlClient posts GraphQL operations to one endpoint.
type gqlClient struct {
	url  string
	http *http.Client
}

type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// opError is a failed operation: a transport failure, an HTTP status other than 200,
// GraphQL errors, or (for mutations) userErrors.
type opError struct{ msg string }

func (e *opError) Error() string { return e.msg }

// rawRequest posts an operation and returns the raw response body when the HTTP
// exchange succeeded with 200.
func (c *gqlClient) rawRequest(ctx context.Context, token string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return b, &opError{fmt.Sprintf("HTTP %s: %s", resp.Status, truncate(string(b), 200))}
	}
	return b, nil
}

// encodeRequest marshals an operation body once, so load loops can reuse it.
func encodeRequest(query string, vars map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		panic(err)
	}
	return b
}

// Do runs an operation and decodes its data into out (if non-nil). GraphQL errors
// are returned as an *opError naming their codes.
func (c *gqlClient) Do(ctx context.Context, token, query string, vars map[string]any, out any) error {
	b, err := c.rawRequest(ctx, token, encodeRequest(query, vars))
	if err != nil {
		return err
	}
	var r gqlResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	if len(r.Errors) > 0 {
		return errorsToErr(r.Errors)
	}
	if out != nil {
		return json.Unmarshal(r.Data, out)
	}
	return nil
}

func errorsToErr(errs []gqlError) error {
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		msgs = append(msgs, fmt.Sprintf("%v: %s", e.Extensions["code"], e.Message))
	}
	return &opError{"graphql: " + strings.Join(msgs, "; ")}
}

var (
	errorsKey     = []byte(`"errors"`)
	userErrorsKey = []byte(`"userErrors":[`)
	noUserErrors  = []byte(`"userErrors":[]`)
)

// checkBody reports whether a load response carries errors. The fast path avoids
// decoding the (large) body on the client, which shares the machine with the server;
// only a body that mentions "errors" or non-empty userErrors is decoded to be sure.
func checkBody(b []byte) error {
	suspect := bytes.Contains(b, errorsKey) ||
		(bytes.Contains(b, userErrorsKey) && !bytes.Contains(b, noUserErrors))
	if !suspect {
		return nil
	}
	var r struct {
		Errors []gqlError                  `json:"errors"`
		Data   map[string]*json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	if len(r.Errors) > 0 {
		return errorsToErr(r.Errors)
	}
	for field, raw := range r.Data {
		if raw == nil {
			continue
		}
		var p struct {
			UserErrors []struct{ Code, Message string } `json:"userErrors"`
		}
		if json.Unmarshal(*raw, &p) == nil && len(p.UserErrors) > 0 {
			return &opError{fmt.Sprintf("%s: userErrors %s: %s", field, p.UserErrors[0].Code, p.UserErrors[0].Message)}
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
