package main

import (
	"errors"
	"net"
	"testing"
	"time"
)

func TestCheckLoopbackURL(t *testing.T) {
	ok := []string{"http://127.0.0.1:8080/graphql", "http://localhost:1/graphql", "http://[::1]:9/x",
		"ws://127.0.0.2:80/graphql", "https://LOCALHOST./graphql"}
	for _, u := range ok {
		if err := checkLoopbackURL(u); err != nil {
			t.Errorf("%s: unexpected error %v", u, err)
		}
	}
	bad := []string{"http://10.0.0.1/graphql", "http://example.com/graphql", "http://localhost.example.com/",
		"ftp://127.0.0.1/", "http://0.0.0.0:8080/", "127.0.0.1:8080", "http://[::]:80/", "http://127.0.0.1@evil.com/"}
	for _, u := range bad {
		if err := checkLoopbackURL(u); err == nil {
			t.Errorf("%s: accepted, want refused", u)
		}
	}
}

func TestCheckDatabaseURL(t *testing.T) {
	ok := []string{"", "sqlite:/tmp/x.db", "postgres://postgres@127.0.0.1:5432/db?sslmode=disable",
		"postgres://u@localhost/db", "postgres:///db?host=/var/run/postgresql"}
	for _, u := range ok {
		if err := checkDatabaseURL(u); err != nil {
			t.Errorf("%s: unexpected error %v", u, err)
		}
	}
	bad := []string{"postgres://u@db.example.com/db", "postgres://u@10.1.2.3/db", "mysql://127.0.0.1/db",
		"postgres://u@127.0.0.1,10.0.0.1/db"}
	for _, u := range bad {
		if err := checkDatabaseURL(u); err == nil {
			t.Errorf("%s: accepted, want refused", u)
		}
	}
}

func TestDialerRefusesNonLoopback(t *testing.T) {
	d := &net.Dialer{Timeout: time.Second, Control: loopbackControl}
	if _, err := d.Dial("tcp", "192.0.2.1:80"); !errors.Is(err, errNotLoopback) {
		t.Fatalf("dial to a TEST-NET address: got %v, want errNotLoopback", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial loopback: %v", err)
	}
	c.Close()
}
