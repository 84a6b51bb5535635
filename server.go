// Command resolutioncenter serves the resolution center's GraphQL API, GraphiQL and
// health endpoints. Subcommands: serve (the default), migrate, seed. Everything is
// assembled by package app; this file only hands it the process's arguments,
// environment, output and signals.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"resolutioncenter/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.Run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil && !errors.Is(err, app.ErrHelp) {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
