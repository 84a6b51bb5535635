// Command resolutioncenter serves the resolution center's GraphQL API, GraphiQL and
// health endpoints. Subcommands: serve (the default), migrate, seed. Everything is
// assembled by package app; this file only hands it the process's arguments,
// environment, output and signals.
package main

import (
	"os"
	"os/signal"
	"syscall"

	"resolutioncenter/app"
)

func main() {
	// The first SIGINT or SIGTERM stops gracefully; a second one exits at once (app.Main).
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	os.Exit(app.Main(os.Args[1:], os.Getenv, os.Stdout, os.Stderr, signals, os.Exit))
}
