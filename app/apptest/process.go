package apptest

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A server binary, built at most once per test run (see Binary, PlainBinary and Main).
type builtBinary struct {
	once sync.Once
	dir  string // the temporary directory holding it; Main removes it
	path string
	err  error
}

// binary is built like the test binary (-race or not); plain without -race.
var binary, plain builtBinary

// Binary returns the path of the server binary (package resolutioncenter, the module
// root), building it on the first call of the test run: every test that runs the real
// binary shares one build. It is built with -race when this test binary was, so that
// the packages come from the build cache of the test run. Call Main from TestMain to
// remove it when the tests end.
func Binary(tb testing.TB) string {
	tb.Helper()
	return binary.get(tb, RaceEnabled())
}

// PlainBinary is Binary built without the race detector, for the tests that measure
// the server's memory or time: a race build multiplies both. Without -race it is
// Binary itself.
func PlainBinary(tb testing.TB) string {
	tb.Helper()
	if !RaceEnabled() {
		return Binary(tb)
	}
	return plain.get(tb, false)
}

func (b *builtBinary) get(tb testing.TB, race bool) string {
	tb.Helper()
	b.once.Do(func() { b.build(race) })
	if b.err != nil {
		tb.Fatal(b.err)
	}
	return b.path
}

func (b *builtBinary) build(race bool) {
	root, err := moduleRoot()
	if err != nil {
		b.err = err
		return
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		b.err = fmt.Errorf("apptest: building the server needs the go tool: %w", err)
		return
	}
	if b.dir, err = os.MkdirTemp("", "resolutioncenter-test-"); err != nil {
		b.err = err
		return
	}
	path := filepath.Join(b.dir, "resolutioncenter")
	args := []string{"build", "-o", path}
	if race {
		args = append(args, "-race")
	}
	cmd := exec.Command(goBin, append(args, ".")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		b.err = fmt.Errorf("apptest: go build: %v\n%s", err, out)
		return
	}
	b.path = path
}

// moduleRoot is the directory of go.mod above the working directory (a test runs in
// its package's directory).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("apptest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Main runs the tests and then removes the binary Binary built, if any. Call it from
// the TestMain of a package whose tests use Binary or StartProcess:
//
//	func TestMain(m *testing.M) { apptest.Main(m) }
//
// Each after function then gets the run's exit code and returns the one to exit with:
// a check of what the tests did as a whole (e.g. that every README block was read).
func Main(m *testing.M, after ...func(code int) int) {
	code := m.Run()
	for _, f := range after {
		code = f(code)
	}
	for _, b := range []*builtBinary{&binary, &plain} {
		if b.dir != "" {
			_ = os.RemoveAll(b.dir)
		}
	}
	os.Exit(code)
}

// RaceEnabled reports whether this test binary was built with -race (which slows code
// 2-20x: a test may scale a time budget by it).
func RaceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" && s.Value == "true" {
			return true
		}
	}
	return false
}

// Process is the server binary running as a child process: several of them can share
// one database as replicas do, a signal reaches it as it reaches production, and work
// the server could not bound dies with it instead of slowing the tests that follow.
type Process struct {
	// Name names the process in messages.
	Name string
	// URL is the /graphql endpoint; Base the server's root, http://host:port. Both are
	// set once the process listens (StartProcess, WaitListening).
	URL, Base string
	// Out is what the process printed on stdout and stderr.
	Out *Output

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result, once done is closed
}

// inherited are the variables a process gets from the test's environment: what the
// go tool and the race detector need, not the server's settings (a developer's
// DATABASE_URL or OTEL_* must not leak into a test).
var inherited = []string{"PATH", "HOME", "TMPDIR", "GORACE", "GOTRACEBACK"}

// listeningRE matches the line Serve prints once it accepts connections.
var listeningRE = regexp.MustCompile(`listening on (http://\S+)`)

// StartProcess runs the server binary (see Binary) with Defaults and then env as its
// environment, and waits until it listens. An empty value in env leaves that setting
// at the server's own default; without DATABASE_URL the process gets a fresh SQLite
// file. The process gets SIGTERM when the test ends (and SIGKILL 20 s later).
func StartProcess(tb testing.TB, name string, env map[string]string) *Process {
	tb.Helper()
	p := LaunchProcess(tb, name, env)
	p.WaitListening(tb)
	return p
}

// LaunchProcess is StartProcess without waiting for the process to listen: start
// several, then call WaitListening on each (replicas starting together migrate one
// database concurrently).
func LaunchProcess(tb testing.TB, name string, env map[string]string) *Process {
	tb.Helper()
	return launch(tb, Binary(tb), name, env)
}

// StartPlainProcess is StartProcess on PlainBinary: the server as deployed, without the
// race detector, for measuring its memory.
func StartPlainProcess(tb testing.TB, name string, env map[string]string) *Process {
	tb.Helper()
	p := launch(tb, PlainBinary(tb), name, env)
	p.WaitListening(tb)
	return p
}

func launch(tb testing.TB, bin, name string, env map[string]string) *Process {
	tb.Helper()
	vals := maps.Clone(Defaults)
	maps.Copy(vals, env)
	if _, ok := vals["DATABASE_URL"]; !ok {
		vals["DATABASE_URL"] = "sqlite:" + filepath.Join(tb.TempDir(), "rc.db")
	}
	cmd := exec.Command(bin)
	cmd.Dir = tb.TempDir() // the default SQLite file, if any, lands there
	for _, k := range inherited {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	if _, ok := os.LookupEnv("GORACE"); !ok {
		// A race-enabled binary sleeps 1 s before exiting by default; tests time how
		// long the server takes to stop, not that. A race found still sets exit code 66.
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	for k, v := range vals {
		if v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	out := NewOutput()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	p := &Process{Name: name, Out: out, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	tb.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				<-p.done
			}
		}
		if tb.Failed() {
			tb.Logf("output of %s (last lines):\n%s", name, p.Tail(60))
		}
	})
	return p
}

// WaitListening waits up to a minute for the process's "listening on" line (the only
// way a separate process can tell the port it picked) and sets URL and Base.
func (p *Process) WaitListening(tb testing.TB) {
	tb.Helper()
	timeout := time.After(time.Minute)
	for {
		if m := listeningRE.FindStringSubmatch(p.Out.String()); m != nil {
			p.Base = m[1]
			p.URL = p.Base + "/graphql"
			return
		}
		select {
		case <-p.Out.Written():
		case <-p.done:
			if m := listeningRE.FindStringSubmatch(p.Out.String()); m == nil {
				tb.Fatalf("%s exited before listening (%v):\n%s", p.Name, p.err, p.Tail(60))
			}
		case <-timeout:
			tb.Fatalf("%s: no listening line within a minute:\n%s", p.Name, p.Tail(60))
		}
	}
}

// Addr is the address the process listens on (host:port).
func (p *Process) Addr() string { return strings.TrimPrefix(p.Base, "http://") }

// Pid is the process ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Terminate sends SIGTERM and returns when it was sent.
func (p *Process) Terminate(tb testing.TB) time.Time {
	tb.Helper()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		tb.Fatalf("%s: SIGTERM: %v", p.Name, err)
	}
	return time.Now()
}

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.done }

// WaitExit waits until limit after since for the process to exit, failing the test
// otherwise, and returns its exit code (-1 when a signal killed it) and how long after
// since it exited.
func (p *Process) WaitExit(tb testing.TB, since time.Time, limit time.Duration) (code int, elapsed time.Duration) {
	tb.Helper()
	select {
	case <-p.done:
	case <-time.After(time.Until(since.Add(limit))):
		tb.Fatalf("%s did not exit within %v:\n%s", p.Name, limit, p.Tail(40))
	}
	elapsed = time.Since(since)
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode(), elapsed
	}
	if p.err != nil {
		tb.Fatalf("%s: %v", p.Name, p.err)
	}
	return 0, elapsed
}

// Stop sends SIGTERM and returns the exit code and how long the process took to exit,
// failing the test when it takes longer than limit.
func (p *Process) Stop(tb testing.TB, limit time.Duration) (code int, elapsed time.Duration) {
	tb.Helper()
	return p.WaitExit(tb, p.Terminate(tb), limit)
}

// Tail returns the last n lines the process printed (the last one even if incomplete:
// a crash may not end its message with a newline).
func (p *Process) Tail(n int) string {
	lines := strings.Split(strings.TrimRight(p.Out.String(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// RSS returns the process's resident set size and its peak since the start or the
// last ResetPeak, in bytes (Linux /proc; zeros elsewhere or once it exited).
func (p *Process) RSS() (rss, peak uint64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		var kb uint64
		if _, err := fmt.Sscanf(l, "VmRSS: %d kB", &kb); err == nil {
			rss = kb << 10
		}
		if _, err := fmt.Sscanf(l, "VmHWM: %d kB", &kb); err == nil {
			peak = kb << 10
		}
	}
	return rss, peak
}

// ResetPeak resets the process's peak RSS (Linux: 5 written to /proc/PID/clear_refs).
func (p *Process) ResetPeak() {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.Pid()), []byte("5"), 0)
}

// CPU returns the user and system CPU time the process has used (Linux /proc; zero
// elsewhere).
func (p *Process) CPU() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid()))
	if err != nil {
		return 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 { // the command name may hold spaces
		s = s[i+2:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	var ut, st int64
	_, _ = fmt.Sscan(f[11], &ut)
	_, _ = fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}
