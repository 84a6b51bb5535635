package model

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// amountReference is the straightforward formatting AppendAmount must agree with.
func amountReference(minor int64, exp int) string {
	neg := minor < 0
	s := strconv.FormatUint(uint64(minor), 10)
	if neg {
		s = strconv.FormatUint(uint64(-minor), 10)
	}
	if exp > 0 {
		if len(s) <= exp {
			s = strings.Repeat("0", exp-len(s)+1) + s
		}
		s = s[:len(s)-exp] + "." + s[len(s)-exp:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

func TestMoneyAmount(t *testing.T) {
	values := []int64{0, 1, 5, 9, 10, 99, 100, 101, 999, 1000, 1999, 123456789, -1, -5, -100, -1999,
		math.MaxInt64, math.MinInt64, math.MaxInt32}
	for _, code := range []string{"USD", "JPY", "KWD"} {
		for _, v := range values {
			m := NewMoney(v, code)
			want := amountReference(v, m.Exponent)
			if got := m.Amount(); got != want {
				t.Errorf("%s %d: Amount() = %q, want %q", code, v, got, want)
			}
			if got := string(m.AppendAmount([]byte("x"))); got != "x"+want {
				t.Errorf("%s %d: AppendAmount = %q, want %q", code, v, got, "x"+want)
			}
		}
	}
}

func TestAppendDateTimeMatchesMarshaller(t *testing.T) {
	times := []time.Time{time.Unix(0, 0), time.Date(2026, 11, 27, 10, 29, 11, 123456789, time.FixedZone("x", 3600)), {},
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 3, 4, 5, 6, 7e6, time.UTC)}
	for i := range 2000 { // a spread of instants over five centuries
		times = append(times, time.UnixMilli(int64(i)*7919*1e7-int64(i%3)*1e12).In(time.FixedZone("y", -i*60)))
	}
	for _, tm := range times {
		want := `"` + tm.UTC().Format(dateTimeLayout) + `"`
		if got := string(AppendDateTime(nil, tm)); got != want {
			t.Errorf("AppendDateTime(%v) = %s, want %s", tm, got, want)
		}
		var w bytes.Buffer
		MarshalDateTime(tm).MarshalGQL(&w)
		if w.String() != want {
			t.Errorf("MarshalDateTime(%v) = %s, want %s", tm, w.String(), want)
		}
	}
	if got := string(AppendDateTime(nil, time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC))); got != `"2026-01-02T03:04:05.006Z"` {
		t.Errorf("got %s", got)
	}
}
