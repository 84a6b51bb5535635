package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The server has no pprof endpoint of its own. When one is exposed (for instance a
// build that serves net/http/pprof on a loopback port), -pprof fetches a CPU profile
// covering each scenario's measured window and saves it as <dir>/<scenario>.cpu.prof,
// for `go tool pprof`.

// startProfile begins fetching a CPU profile of d; the returned function waits for it
// and saves it. Without -pprof it does nothing.
func (e *env) startProfile(ctx context.Context, scenario string, d time.Duration) func() {
	if e.opts.PprofURL == "" {
		return func() {}
	}
	secs := int(math.Max(1, math.Floor(d.Seconds())))
	url := strings.TrimSuffix(e.opts.PprofURL, "/") + fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs)
	path := filepath.Join(e.opts.PprofDir, scenario+".cpu.prof")
	done := make(chan error, 1)
	go func() { done <- fetchProfile(ctx, url, path, time.Duration(secs+30)*time.Second) }()
	return func() {
		if err := <-done; err != nil {
			e.logf("%s: no CPU profile: %v", scenario, err)
			return
		}
		e.logf("%s: CPU profile in %s (go tool pprof %s)", scenario, path, path)
	}
}

func fetchProfile(ctx context.Context, url, path string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := newHTTPClient(1, 0).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s (does the server expose net/http/pprof there?)", url, resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
