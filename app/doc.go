// Package app is the one place that assembles the server: configuration from flags and
// the environment, the database and its change feed, the hub, the deadline sweeper,
// the GraphQL API with its middleware (authentication, limits, rate limiting, CORS,
// metrics, tracing, request IDs), GraphiQL, health and readiness, the collector
// settings, graceful shutdown, and the migrate and seed subcommands.
//
// Production (server.go) calls Main, which runs Run under the process's stop signals;
// tests build servers through the same New, by way of apptest, so that what is tested
// is what is deployed.
//
// app may import every package of the module; none imports app but server.go and the
// tests.
package app
