package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// spawned is a server the tool built and started itself on a loopback port.
type spawned struct {
	cmd   *exec.Cmd
	URL   string // http://127.0.0.1:PORT/graphql
	Token string // its PLATFORM_TOKEN
	// MetricsToken is its METRICS_TOKEN (/metrics is closed without one).
	MetricsToken string
	DBURL        string
	Engine       string
	dir          string
	logPath      string
	exited       chan error
}

// moduleRoot finds the resolutioncenter module (the directory of go.mod).
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the resolutioncenter module: run from its directory")
	}
	return filepath.Dir(gomod), nil
}

var listeningRE = regexp.MustCompile(`listening on (http://\S+?) `)

// spawnServer builds the server, seeds a database (a temporary SQLite file unless
// dbURL is given) with seedCases generated cases (0: none), and starts the server on
// 127.0.0.1 with a random platform token and rate limiting off. Its log goes to a
// file in the temporary directory.
func spawnServer(ctx context.Context, dbURL string, seedCases int, logw io.Writer) (*spawned, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "rc-bench-")
	if err != nil {
		return nil, err
	}
	s := &spawned{dir: dir, DBURL: dbURL, Engine: "postgres", Token: "bench-" + randomWord() + randomWord() + randomWord(),
		MetricsToken: "metrics-" + randomWord() + randomWord() + randomWord(),
		logPath:      filepath.Join(dir, "server.log"), exited: make(chan error, 1)}
	if dbURL == "" {
		s.DBURL, s.Engine = "sqlite:"+filepath.Join(dir, "bench.db"), "sqlite"
	}
	fail := func(err error) (*spawned, error) { os.RemoveAll(dir); return nil, err }
	bin := filepath.Join(dir, "resolutioncenter")
	fmt.Fprintf(logw, "bench: building the server (%s)\n", root)
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	build.Dir, build.Stdout, build.Stderr = root, logw, logw
	if err := build.Run(); err != nil {
		return fail(fmt.Errorf("go build: %w", err))
	}
	if seedCases > 0 {
		fmt.Fprintf(logw, "bench: seeding %d cases into %s\n", seedCases, s.Engine)
		seed := exec.CommandContext(ctx, bin, "seed", "-cases", fmt.Sprint(seedCases), "-database-url", s.DBURL)
		if out, err := seed.CombinedOutput(); err != nil {
			return fail(fmt.Errorf("seed: %w\n%s", err, out))
		}
	}
	// The server writes straight to its log file (no pipe through this process, which
	// would spend the load generator's CPU on the server's per-operation log lines); the
	// listening address is read back from the file.
	logf, err := os.Create(s.logPath)
	if err != nil {
		return fail(err)
	}
	defer logf.Close()
	s.cmd = exec.Command(bin)
	s.cmd.Env = append(os.Environ(), "ADDR=127.0.0.1:0", "DATABASE_URL="+s.DBURL, "PLATFORM_TOKEN="+s.Token,
		"RATE_LIMIT=0", "MUTATION_RATE_LIMIT=0", "MESSAGES_PER_HOUR=0", "SEED_DEMO=false", "MAX_SUBSCRIPTIONS=100000",
		"LOG_FORMAT=json", "METRICS_TOKEN="+s.MetricsToken, "METRICS_ADDR=",
		// The webhooks scenario's receiver listens on loopback: development mode.
		"DEV_MODE=true", "WEBHOOK_SECRET_KEY=YmVuY2gtd2ViaG9vay1zZWNyZXQta2V5LTMyLWJ5dGU=", "WEBHOOK_ENDPOINT_RATE=0")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return fail(err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for s.URL == "" {
		b, _ := os.ReadFile(s.logPath)
		if m := listeningRE.FindSubmatch(b); m != nil {
			s.URL = string(m[1]) + "/graphql"
			break
		}
		select {
		case err := <-s.exited:
			os.RemoveAll(dir)
			return nil, fmt.Errorf("the server exited (%v):\n%s", err, truncate(string(b), 4000))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, errors.New("the server did not start within 60s")
		}
	}
	fmt.Fprintf(logw, "bench: server pid %d at %s (%s), log %s\n", s.cmd.Process.Pid, s.URL, s.Engine, s.logPath)
	return s, nil
}

// PID is the server's process ID.
func (s *spawned) PID() int { return s.cmd.Process.Pid }

// Stop sends SIGTERM, waits up to 20s (then kills), and removes the temporary files.
func (s *spawned) Stop() error {
	defer os.RemoveAll(s.dir)
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		return err
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		return errors.New("the server did not stop within 20s; killed")
	}
}

func randomWord() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
