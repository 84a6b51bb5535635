package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// The tool only ever talks to this machine: every target URL must name a loopback
// host, and every connection it dials is checked again at connect time (after name
// resolution), so neither a redirect nor a DNS answer can send load elsewhere.

// checkLoopbackURL accepts http(s) and ws(s) URLs whose host is localhost or a loopback
// IP address, and rejects everything else.
func checkLoopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("bad URL %q: %w", raw, err)
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return fmt.Errorf("URL %q: want http://, https://, ws:// or wss://", raw)
	}
	if !isLoopbackHost(u.Hostname()) {
		return fmt.Errorf("URL %q: refusing a non-loopback target (use 127.0.0.1, [::1] or localhost)", raw)
	}
	return nil
}

// isLoopbackHost reports whether host is "localhost" or a loopback IP literal.
func isLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkDatabaseURL accepts a postgres:// URL whose hosts are loopback addresses or
// Unix socket directories, and sqlite:/file: paths (local by nature).
func checkDatabaseURL(raw string) error {
	if raw == "" || strings.HasPrefix(raw, "sqlite:") || strings.HasPrefix(raw, "file:") {
		return nil
	}
	if !strings.HasPrefix(raw, "postgres://") && !strings.HasPrefix(raw, "postgresql://") {
		return fmt.Errorf("database URL: want postgres://..., sqlite:PATH or file:PATH")
	}
	cfg, err := pgconn.ParseConfig(raw)
	if err != nil {
		return fmt.Errorf("database URL: %w", err)
	}
	hosts := []string{cfg.Host}
	for _, fb := range cfg.Fallbacks {
		hosts = append(hosts, fb.Host)
	}
	for _, h := range hosts {
		if !strings.HasPrefix(h, "/") && !isLoopbackHost(h) {
			return fmt.Errorf("database URL: refusing non-loopback host %q", h)
		}
	}
	return nil
}

// errNotLoopback is returned by the dialer for a non-loopback address.
var errNotLoopback = errors.New("refusing to connect to a non-loopback address")

// loopbackControl is a net.Dialer Control function that refuses any address that is
// not a loopback IP.
func loopbackControl(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: %s", errNotLoopback, address)
	}
	return nil
}

// newHTTPClient returns a client for load: keep-alive connections for conns workers,
// a per-request timeout, no redirects, and the loopback-only dialer.
func newHTTPClient(conns int, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: loopbackControl}
	tr := &http.Transport{
		DialContext:         func(ctx context.Context, n, a string) (net.Conn, error) { return d.DialContext(ctx, n, a) },
		MaxIdleConns:        conns + 16,
		MaxIdleConnsPerHost: conns + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("redirects are not followed")
		},
	}
}
