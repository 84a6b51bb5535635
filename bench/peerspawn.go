package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The -peer mode's PostGraphile: bench/peer/server.mjs started with node on a loopback
// port, in production mode, on the database this server uses. Node and the npm
// packages are optional: without them the mode says what to install and stops.

// peerInstallHint is what to run once to install PostGraphile (pinned in the lock file).
const peerInstallHint = "cd bench/peer && npm ci"

// peerVersionRE reads the package version from server.mjs's first line.
var peerVersionRE = regexp.MustCompile(`peer: postgraphile (\S+) `)

// peerProcess is a PostGraphile the tool started.
type peerProcess struct {
	cmd     *exec.Cmd
	URL     string // http://127.0.0.1:PORT/graphql
	Version string // of the postgraphile package
	logPath string
	dir     string
	exited  chan error
}

// defaultPeerDir is bench/peer in the module.
func defaultPeerDir() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "bench", "peer"), nil
}

// checkPeerInstalled reports, without a stack trace or a download, what is missing to
// run PostGraphile from dir: node on the PATH, and dir/node_modules from `npm ci`.
func checkPeerInstalled(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "server.mjs")); err != nil {
		return fmt.Errorf("-peer: no server.mjs in %s (set -peer-dir to the repository's bench/peer)", dir)
	}
	node, nodeErr := exec.LookPath("node")
	_, npmErr := exec.LookPath("npm")
	_, modErr := os.Stat(filepath.Join(dir, "node_modules", "postgraphile", "package.json"))
	switch {
	case nodeErr != nil:
		return fmt.Errorf("-peer needs Node.js (20 or later) and npm, and node is not on the PATH: install them, then run `%s`", peerInstallHint)
	case modErr != nil && npmErr != nil:
		return fmt.Errorf("-peer: PostGraphile is not installed in %s and npm is not on the PATH: install npm, then run `%s`", dir, peerInstallHint)
	case modErr != nil:
		return fmt.Errorf("-peer: PostGraphile is not installed in %s: run `%s` (versions pinned in package-lock.json)", dir, peerInstallHint)
	}
	out, err := exec.Command(node, "-v").Output()
	if err != nil {
		return fmt.Errorf("-peer: %s -v: %w", node, err)
	}
	if major := nodeMajor(string(out)); major < 20 {
		return fmt.Errorf("-peer: node %s is too old: PostGraphile 5 needs Node.js 20 or later (with the polyfill) or 22", strings.TrimSpace(string(out)))
	}
	return nil
}

// nodeMajor reads the major version from `node -v` ("v20.20.2" -> 20; 0 if unreadable).
func nodeMajor(v string) int {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	major, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		return 0
	}
	return n
}

// pgxOnlyParams are connection-string parameters that pgx's pool reads and
// node-postgres does not know.
var pgxOnlyParams = []string{"pool_max_conns", "pool_min_conns", "pool_min_idle_conns", "pool_max_conn_lifetime",
	"pool_max_conn_lifetime_jitter", "pool_max_conn_idle_time", "pool_health_check_period"}

// peerDatabaseURL returns the database URL for node-postgres (pgx's pool parameters
// removed) and the pool size this server's pgx pool uses for it: pool_max_conns when
// the URL sets it, else pgxpool's default, max(4, CPUs).
func peerDatabaseURL(raw string, cpus int) (string, int, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", 0, errors.New("-peer needs -database-url postgres://... (the database this server uses)")
	}
	pool := max(4, cpus)
	q := u.Query()
	if v := q.Get("pool_max_conns"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return "", 0, fmt.Errorf("database URL: bad pool_max_conns %q", v)
		}
		pool = n
	}
	for _, p := range pgxOnlyParams {
		q.Del(p)
	}
	u.RawQuery = q.Encode()
	return u.String(), pool, nil
}

// startPeer starts PostGraphile from dir with node (Promise.withResolvers polyfilled)
// on 127.0.0.1, a free port, a pool of pool connections to dbURL, GRAPHILE_ENV and
// NODE_ENV production. It waits until the schema is built and the port answers; the
// log goes to a temporary file.
func startPeer(ctx context.Context, dir, dbURL string, pool int, logw io.Writer) (*peerProcess, error) {
	tmp, err := os.MkdirTemp("", "rc-bench-peer-")
	if err != nil {
		return nil, err
	}
	p := &peerProcess{dir: tmp, logPath: filepath.Join(tmp, "postgraphile.log"), exited: make(chan error, 1)}
	logf, err := os.Create(p.logPath)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	defer logf.Close()
	p.cmd = exec.Command("node", "--require", "./polyfill.cjs", "server.mjs")
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), "GRAPHILE_ENV=production", "NODE_ENV=production", "PEER_DATABASE_URL="+dbURL,
		"PEER_HOST=127.0.0.1", "PEER_PORT=0", "PEER_POOL_MAX="+strconv.Itoa(pool))
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("start node: %w", err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		b, _ := os.ReadFile(p.logPath)
		if m := listeningRE.FindSubmatch(b); m != nil {
			p.URL = string(m[1])
			if v := peerVersionRE.FindSubmatch(b); v != nil {
				p.Version = string(v[1])
			}
			break
		}
		select {
		case err := <-p.exited:
			os.RemoveAll(tmp)
			return nil, fmt.Errorf("PostGraphile exited (%v):\n%s", err, truncate(string(b), 4000))
		case <-ctx.Done():
			p.Stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("PostGraphile did not start within 2m:\n%s", truncate(string(b), 4000))
		}
	}
	if err := checkLoopbackURL(p.URL); err != nil {
		p.Stop()
		return nil, err
	}
	fmt.Fprintf(logw, "bench: PostGraphile %s pid %d at %s (pool %d), log %s\n", p.Version, p.PID(), p.URL, pool, p.logPath)
	return p, nil
}

// PID is the node process's ID (the whole of PostGraphile: one process).
func (p *peerProcess) PID() int { return p.cmd.Process.Pid }

// Stop sends SIGTERM, waits up to 20s (then kills), and removes the log.
func (p *peerProcess) Stop() error {
	defer os.RemoveAll(p.dir)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		return err
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		return errors.New("PostGraphile did not stop within 20s; killed")
	}
}
