package graphiql

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// The npm tarballs' files, as gqlgen v0.17.98's playground pins them
// (sha256 SRI), and as the page pins them (sha384 SRI).
var vendored = map[string]struct{ sha256, sha384 string }{
	"graphiql.min.js": {
		"sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs=",
		"sha384-9XdHu7ajgGJziD4J1zNBKQ842Q/+zZfDv+ib1eMhZWBH6hPAs806x+Jbcf0yNO6B",
	},
	"graphiql.min.css": {
		"sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU=",
		"sha384-1el1QShFBnnXTx9x/Cprg82hZWKt0ry29OAYIXt05swbi0KcZDFoj0CWguMpopJr",
	},
	"react.production.min.js": {
		"sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY=",
		"sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
	},
	"react-dom.production.min.js": {
		"sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc=",
		"sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
	},
}

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sri(alg string, data []byte) string {
	switch alg {
	case "sha256":
		s := sha256.Sum256(data)
		return "sha256-" + base64.StdEncoding.EncodeToString(s[:])
	case "sha384":
		s := sha512.Sum384(data)
		return "sha384-" + base64.StdEncoding.EncodeToString(s[:])
	case "sha512":
		s := sha512.Sum512(data)
		return "sha512-" + base64.StdEncoding.EncodeToString(s[:])
	}
	return ""
}

var (
	tagRe  = regexp.MustCompile(`(?is)<(script|link)\b([^>]*)>`)
	attrRe = regexp.MustCompile(`(?is)([a-z-]+)\s*=\s*"([^"]*)"`)
)

type ref struct {
	tag, url, integrity string
}

// refs lists the scripts and stylesheets the page loads.
func refs(t *testing.T, page string) []ref {
	t.Helper()
	var out []ref
	for _, m := range tagRe.FindAllStringSubmatch(page, -1) {
		attrs := map[string]string{}
		for _, a := range attrRe.FindAllStringSubmatch(m[2], -1) {
			attrs[strings.ToLower(a[1])] = html.UnescapeString(a[2])
		}
		tag := strings.ToLower(m[1])
		switch {
		case tag == "script":
			if attrs["src"] == "" {
				t.Errorf("page has an inline script: %s", m[0])
				continue
			}
			out = append(out, ref{tag, attrs["src"], attrs["integrity"]})
		case tag == "link" && strings.EqualFold(attrs["rel"], "stylesheet"):
			out = append(out, ref{tag, attrs["href"], attrs["integrity"]})
		}
	}
	return out
}

func TestPageLoadsOnlyLocalAssets(t *testing.T) {
	h := Handler("Test API", "/graphql")
	res := get(t, h, http.MethodGet, "/", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("GET / Content-Type = %q", ct)
	}
	page := string(body(t, res))
	if !strings.Contains(page, "<title>Test API</title>") {
		t.Errorf("page has no title")
	}
	// No absolute URL anywhere in the page: nothing comes from a CDN.
	if strings.Contains(page, "://") {
		t.Errorf("page contains an absolute URL:\n%s", page)
	}

	rs := refs(t, page)
	kinds := map[string]int{}
	for _, r := range rs {
		kinds[r.tag]++
	}
	if kinds["script"] < 4 || kinds["link"] < 1 {
		t.Fatalf("page loads %d scripts and %d stylesheets, want >= 4 and >= 1: %+v", kinds["script"], kinds["link"], rs)
	}
	seen := map[string]bool{}
	for _, r := range rs {
		if strings.Contains(r.url, "://") || strings.HasPrefix(r.url, "//") || !strings.HasPrefix(r.url, AssetPrefix) {
			t.Errorf("%s loads %q, want a local URL under %s", r.tag, r.url, AssetPrefix)
			continue
		}
		res := get(t, h, http.MethodGet, r.url, nil)
		data := body(t, res)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", r.url, res.StatusCode)
			continue
		}
		wantCT := map[string]string{"script": "text/javascript", "link": "text/css"}[r.tag]
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, wantCT) {
			t.Errorf("GET %s Content-Type = %q, want %s", r.url, ct, wantCT)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
			t.Errorf("GET %s Cache-Control = %q", r.url, cc)
		}
		if r.integrity == "" {
			t.Errorf("%s %s has no integrity attribute", r.tag, r.url)
		}
		for _, want := range strings.Fields(r.integrity) {
			alg, _, _ := strings.Cut(want, "-")
			if got := sri(alg, data); got != want {
				t.Errorf("GET %s: integrity %q, bytes hash to %q", r.url, want, got)
			}
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(r.url, AssetPrefix), "?")
		seen[name] = true
		if v, ok := vendored[name]; ok {
			if got := sri("sha256", data); got != v.sha256 {
				t.Errorf("%s: sha256 %s, want the npm tarball's %s", name, got, v.sha256)
			}
			if r.integrity != v.sha384 {
				t.Errorf("%s: page integrity %s, want %s", name, r.integrity, v.sha384)
			}
		}
		// Our own scripts and styles must not reach out either.
		if _, ok := vendored[name]; !ok && strings.Contains(string(data), "://") {
			t.Errorf("%s contains an absolute URL", name)
		}
	}
	for name := range vendored {
		if !seen[name] {
			t.Errorf("page does not load %s", name)
		}
	}
}

func TestPageSettings(t *testing.T) {
	res := get(t, Handler("T", "/graphql"), http.MethodGet, "/", nil)
	page := html.UnescapeString(string(body(t, res)))
	for _, want := range []string{
		`data-endpoint="/graphql"`,
		`"Authorization": "Bearer <token>"`, // default headers
		`data-placeholder-authorization="Bearer <token>"`,
		`{"Authorization": "Bearer <token>"}`, // hint in the default query
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") ||
		!strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("page Cache-Control = %q", cc)
	}

	// init.js derives the WebSocket URL from the page location.
	js := string(body(t, get(t, Handler("T", "/graphql"), http.MethodGet, AssetPrefix+"init.js", nil)))
	for _, want := range []string{"subscriptionUrl", "'wss:'", "'ws:'", "window.location.href", "GraphiQL.createFetcher", "shouldPersistHeaders: true"} {
		if !strings.Contains(js, want) {
			t.Errorf("init.js lacks %s", want)
		}
	}
}

func TestOptionsPrefill(t *testing.T) {
	h := New("T", "/graphql", Options{Query: `{ viewer { role } }`, Headers: `{"Authorization": "Bearer rc_x<y"}`})
	page := string(body(t, get(t, h, http.MethodGet, "/", nil)))
	for _, want := range []string{`data-default-query="{ viewer { role } }"`, `data-default-headers="{&#34;Authorization&#34;: &#34;Bearer rc_x&lt;y&#34;}"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, "Bearer &lt;token&gt;&#34;") {
		t.Error("the page still starts with the placeholder headers")
	}
}

func TestAbsoluteEndpointCSP(t *testing.T) {
	res := get(t, Handler("T", "https://api.example.test/graphql"), http.MethodGet, "/", nil)
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "https://api.example.test wss://api.example.test") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
}

func TestNotFoundAndMethods(t *testing.T) {
	h := Handler("T", "/graphql")
	for _, p := range []string{"/index.html", "/graphql", "/graphiql", "/graphiql/", "/graphiql/nope.js",
		"/graphiql/../graphiql.go", "/graphiql/README.md", "/graphiql/assets/init.js"} {
		if res := get(t, h, http.MethodGet, p, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, res.StatusCode)
		}
	}
	res := get(t, h, http.MethodPost, "/", nil)
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST / = %d Allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
	res = get(t, h, http.MethodHead, AssetPrefix+"graphiql.min.css", nil)
	if res.StatusCode != http.StatusOK || len(body(t, res)) != 0 {
		t.Errorf("HEAD asset = %d", res.StatusCode)
	}
}

func TestGzipAndConditional(t *testing.T) {
	h := Handler("T", "/graphql")
	plain := get(t, h, http.MethodGet, AssetPrefix+"graphiql.min.js", nil)
	raw := body(t, plain)

	res := get(t, h, http.MethodGet, AssetPrefix+"graphiql.min.js", map[string]string{"Accept-Encoding": "br, gzip"})
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q", res.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body(t, res)))
	if err != nil {
		t.Fatal(err)
	}
	unz, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(unz, raw) {
		t.Errorf("gzip body differs from the plain one")
	}
	if res.Header.Get("ETag") == plain.Header.Get("ETag") {
		t.Errorf("gzip and identity share ETag %s", res.Header.Get("ETag"))
	}
	if res := get(t, h, http.MethodGet, AssetPrefix+"graphiql.min.js", map[string]string{"Accept-Encoding": "gzip;q=0"}); res.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 got Content-Encoding %q", res.Header.Get("Content-Encoding"))
	}

	etag := plain.Header.Get("ETag")
	if res := get(t, h, http.MethodGet, AssetPrefix+"graphiql.min.js", map[string]string{"If-None-Match": etag}); res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match = %d, want 304", res.StatusCode)
	}
}

func TestMount(t *testing.T) {
	mux := http.NewServeMux()
	Mount(mux, "T", "/graphql")
	mux.HandleFunc("POST /graphql", func(w http.ResponseWriter, r *http.Request) {})
	for p, want := range map[string]int{"/": 200, AssetPrefix + "init.js": 200, "/other": 404, AssetPrefix + "x": 404} {
		if res := get(t, mux, http.MethodGet, p, nil); res.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", p, res.StatusCode, want)
		}
	}
}
