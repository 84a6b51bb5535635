package model

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"resolutioncenter/dispute"
)

// dateTimeLayout is RFC 3339 in UTC with exactly three fractional digits.
const dateTimeLayout = "2006-01-02T15:04:05.000Z"

// MarshalDateTime writes t as RFC 3339 in UTC with milliseconds.
func MarshalDateTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		var buf [32]byte
		w.Write(AppendDateTime(buf[:0], t)) //nolint:errcheck
	})
}

// AppendDateTime appends t as a JSON string, RFC 3339 in UTC with milliseconds: the
// one encoding of DateTime, for gqlgen's marshaller and the planned executor alike.
func AppendDateTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		dst = append(dst, '"')
		dst = t.AppendFormat(dst, dateTimeLayout)
		return append(dst, '"')
	}
	// dateTimeLayout, digit by digit: a page writes hundreds of these.
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	return append(dst, '"',
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z', '"')
}

// UnmarshalDateTime reads an RFC 3339 string (any offset, any precision) and returns it in
// UTC truncated to milliseconds, the precision the server stores.
func UnmarshalDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, dispute.Invalid("", fmt.Sprintf("DateTime must be an RFC 3339 string, got %T", v))
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || len(s) > 64 {
		return time.Time{}, dispute.Invalid("", "DateTime must be RFC 3339, e.g. 2026-01-02T15:04:05.000Z")
	}
	t = t.UTC().Truncate(time.Millisecond)
	if t.Before(MinDateTime) || t.After(MaxDateTime) {
		return time.Time{}, dispute.Invalid("", "DateTime must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z")
	}
	return t, nil
}

// The range of DateTime inputs: the years 1 to 9999 in UTC, which both engines store
// and every RFC 3339 writer can print (PostgreSQL refuses year 0; a later year would
// not print in four digits).
var (
	MinDateTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxDateTime = time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)
)

// Money is an exact amount: integer minor units and a currency.
type Money struct {
	Minor    int64
	Code     string
	Exponent int
}

// NewMoney returns minor units of a currency as Money.
func NewMoney(minor int64, currency string) Money {
	return Money{Minor: minor, Code: currency, Exponent: CurrencyExponent(currency)}
}

// Amount is the exact decimal string in major units.
func (m Money) Amount() string {
	var buf [32]byte
	return string(m.AppendAmount(buf[:0]))
}

// AppendAmount appends the exact decimal string in major units (no quotes): the one
// formatting of money, behind Amount and the planned executor.
func (m Money) AppendAmount(dst []byte) []byte {
	v := uint64(m.Minor)
	if m.Minor < 0 {
		dst = append(dst, '-')
		v = uint64(-m.Minor)
	}
	var digits [24]byte
	d := strconv.AppendUint(digits[:0], v, 10)
	if m.Exponent <= 0 {
		return append(dst, d...)
	}
	if len(d) <= m.Exponent { // 5 cents: 0.05
		dst = append(dst, '0', '.')
		for range m.Exponent - len(d) {
			dst = append(dst, '0')
		}
		return append(dst, d...)
	}
	dst = append(dst, d[:len(d)-m.Exponent]...)
	dst = append(dst, '.')
	return append(dst, d[len(d)-m.Exponent:]...)
}

// Currency is the ISO 4217 code.
func (m Money) Currency() string { return m.Code }

// MinorUnits is the amount in minor units.
func (m Money) MinorUnits() int { return int(m.Minor) }

// CurrencyExponent returns the number of decimals of an ISO 4217 currency: 2 unless
// the currency is one of the few with 0 or 3.
func CurrencyExponent(code string) int {
	switch code {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	}
	return 2
}
