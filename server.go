// Command resolutioncenter serves the resolution center's GraphQL API, GraphiQL and
// health endpoints. Subcommands: serve (the default), migrate, seed.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	if os.Getenv("GOGC") == "" {
		// The GraphQL layer allocates many short-lived objects per request; collecting
		// half as often costs a little memory and saves CPU (about 15% on the list
		// benchmark). GOGC in the environment still decides when set.
		debug.SetGCPercent(200)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		if errors.Is(err, errHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// run is the whole program: it parses args and the environment, then runs the
// subcommand until ctx ends. Tests call it directly with port 0 and a temp database.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, err := parseConfig("serve", args, getenv, stdout)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, getenv, stdout)
	case "migrate":
		cfg, err := parseConfig("migrate", args, getenv, stdout)
		if err != nil {
			return err
		}
		return migrateOnly(ctx, cfg, stdout)
	case "seed":
		return seedCommand(ctx, args, getenv, stdout)
	case "help":
		_, err := parseConfig("serve", []string{"-help"}, getenv, stdout)
		return err
	}
	return fmt.Errorf("unknown command %q: want serve, migrate or seed", cmd)
}
