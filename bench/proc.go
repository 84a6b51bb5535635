package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Process figures from /proc (Linux): a server's CPU time and RSS by PID, the load
// generator's own, and PostgreSQL's (all its processes together).

// clockTicks is USER_HZ, which is 100 on every Linux architecture Go supports.
const clockTicks = 100

// procCPUSeconds returns utime+stime of a process from /proc/<pid>/stat.
func procCPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseProcStat(string(b))
}

func parseProcStat(stat string) (float64, error) {
	// The command name (field 2) is in parentheses and may contain spaces.
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc stat")
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 { // fields 3.. ; utime and stime are fields 14 and 15
		return 0, fmt.Errorf("malformed /proc stat")
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed /proc stat")
	}
	return (ut + st) / clockTicks, nil
}

// procRSSBytes returns VmRSS of a process from /proc/<pid>/status.
func procRSSBytes(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// selfCPUSeconds is this process's CPU time so far (the load generator's own cost).
func selfCPUSeconds() float64 {
	v, err := procCPUSeconds(os.Getpid())
	if err != nil {
		return 0
	}
	return v
}

// postgresCPUSeconds sums the CPU time of every process named "postgres" (the
// PostgreSQL server and its backends), or with database set, of the backends connected
// to that database only (their process title names it: "postgres: 15/main: user
// database host(port) state"), leaving out other databases' work and the shared
// background processes (WAL writer, checkpointer). Backends that exit between two
// readings take their CPU time with them, so pooled connections give the truest figure.
func postgresCPUSeconds(database string) (float64, bool) {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	total, found := 0.0, false
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open || s[open+1:end] != "postgres" {
			continue
		}
		if database != "" {
			title, err := os.ReadFile(filepath.Join(filepath.Dir(p), "cmdline"))
			if err != nil || backendDatabase(string(title)) != database {
				continue
			}
		}
		if v, err := parseProcStat(s); err == nil {
			total += v
			found = true
		}
	}
	return total, found
}

// backendDatabase returns the database of a PostgreSQL backend from its process title
// ("postgres: 15/main: user database host(port) state"), or "" for other processes.
func backendDatabase(title string) string {
	f := strings.Fields(strings.ReplaceAll(title, "\x00", " "))
	if len(f) < 5 || f[0] != "postgres:" || !strings.HasSuffix(f[1], ":") || !strings.Contains(f[4], "(") {
		return ""
	}
	return f[3]
}
