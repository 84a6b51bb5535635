package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"syscall"
)

// Main is the process (server.go hands it the process's arguments, environment,
// output and stop signals): it runs Run until it returns, and returns the exit code.
//
// The first signal on signals stops the command: Run's context ends, and the server
// shuts down gracefully (SHUTDOWN_GRACE). A second signal while that still runs (an
// operator's second Ctrl-C, a supervisor's repeated SIGTERM) logs that it gives up and
// calls exit(1) at once, without waiting for what the shutdown was waiting for.
//
// The exit code is 0 when the command ended well, and also when a signal stopped a
// server during its start-up (migrations, connecting, before it listens): that is an
// orderly stop, not a failure, unless start-up had failed for another reason; 1 for
// any other error, which is printed on stderr.
func Main(args []string, getenv func(string) string, stdout, stderr io.Writer, signals <-chan os.Signal, exit func(code int)) int {
	st := &stopState{}
	format := getenv("LOG_FORMAT")
	if format == "" {
		format = "auto"
	}
	st.logger.Store(newLogger(format, stdout)) // until serve has read its settings
	ctx, cancel := context.WithCancelCause(context.WithValue(context.Background(), stopStateKey{}, st))
	defer cancel(nil)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case s := <-signals:
			cancel(&StopSignal{Signal: s})
		case <-done:
			return
		}
		select {
		case s := <-signals:
			st.logger.Load().Error("second stop signal during shutdown: exiting at once, without waiting for the graceful shutdown to finish",
				"signal", signalName(s))
			exit(1)
		case <-done:
		}
	}()
	err := Run(ctx, args, getenv, stdout)
	if err != nil && !errors.Is(err, ErrHelp) {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	return 0
}

// StopSignal is the cause of Run's context ending when Main got a stop signal.
type StopSignal struct{ Signal os.Signal }

func (s *StopSignal) Error() string { return "received " + signalName(s.Signal) }

// signalName names the stop signals as operators do (SIGTERM, not "terminated").
func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGTERM:
		return "SIGTERM"
	case os.Interrupt:
		return "SIGINT"
	}
	return s.String()
}

// stopState is what Main shares with the command it runs: the logger the forced-exit
// line goes to (the server's own, once serve has read its settings).
type stopState struct{ logger atomic.Pointer[slog.Logger] }

type stopStateKey struct{}

// useLogger makes Main log a forced exit with l.
func useLogger(ctx context.Context, l *slog.Logger) {
	if st, ok := ctx.Value(stopStateKey{}).(*stopState); ok {
		st.logger.Store(l)
	}
}

// stoppedDuringStartup reports whether New failed once ctx had ended (a stop signal
// during start-up): the stop cut the start-up, whatever the error says. Not every
// cut statement reports the context's error: the SQLite driver answers an
// interrupted statement with "interrupted", and a dial or a migration may wrap it in
// its own words.
func stoppedDuringStartup(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() != nil
}
