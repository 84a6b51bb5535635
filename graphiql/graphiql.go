// Package graphiql serves the GraphiQL IDE with every file it loads embedded
// in the binary, so the page works with no internet access (no CDN).
//
// Handler serves two kinds of path:
//
//	/                    the GraphiQL page (text/html, Cache-Control: no-cache)
//	/graphiql/<asset>    its scripts and styles (long-lived, immutable cache)
//
// and answers 404 for any other path. Route both to it, for example with
// Mount, or:
//
//	h := graphiql.Handler("Resolution Center", "/graphql")
//	mux.Handle("GET /{$}", h)
//	mux.Handle("GET /graphiql/", h)
//
// The page talks to endpoint over HTTP POST for queries and mutations and
// over a graphql-transport-ws WebSocket on the same path for subscriptions
// (ws:// from an http page, wss:// from an https page). The headers typed in
// GraphiQL's Headers editor are sent with each HTTP request and, for
// subscriptions, as the connection_init payload ({"Authorization": "Bearer
// ..."}). The editor starts with {"Authorization": "Bearer <token>"} (or
// Options.Headers); the page never sends that placeholder itself. Headers
// persist across reloads (GraphiQL's shouldPersistHeaders, in the browser's
// localStorage; GraphiQL's settings turn it off), so a token is typed once.
//
// The vendored files under assets/ come byte for byte from the npm tarballs
// graphiql@4.1.2, react@18.2.0 and react-dom@18.2.0 (see assets/README.md);
// the page loads them with Subresource Integrity (sha384).
//
// graphiql imports nothing of this module.
package graphiql

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
)

// AssetPrefix is the path under which Handler serves the page's assets.
const AssetPrefix = "/graphiql/"

// PlaceholderAuthorization is the Authorization value the Headers editor
// starts with. The page drops an Authorization header that still holds it.
const PlaceholderAuthorization = "Bearer <token>"

//go:embed page.html
var pageTemplate string

//go:embed assets/graphiql.min.js assets/graphiql.min.css assets/react.production.min.js assets/react-dom.production.min.js assets/init.js assets/page.css
var assetFiles embed.FS

var page = template.Must(template.New("graphiql").Parse(pageTemplate))

// asset is one embedded file, with what is needed to serve it.
type asset struct {
	Name        string // file name under AssetPrefix
	ContentType string
	Data        []byte
	SRI         string // "sha384-<base64>" of Data
	etag        string
	// URL is the path the page references: AssetPrefix + Name plus a
	// content-hash query string, so a new build never meets a stale cache.
	URL string

	gzOnce sync.Once
	gz     []byte // gzip of Data, made on first request; nil if not smaller
}

func (a *asset) gzipped() []byte {
	a.gzOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(a.Data)
		if zw.Close() == nil && buf.Len() < len(a.Data) {
			a.gz = buf.Bytes()
		}
	})
	return a.gz
}

// pageAssets are the files the page loads, in the template's terms.
type pageAssets struct {
	CSS, PageCSS, React, ReactDOM, GraphiQL, Init *asset
}

var loadAssets = sync.OnceValues(func() (map[string]*asset, pageAssets) {
	byName := map[string]*asset{}
	load := func(name string) *asset {
		data, err := assetFiles.ReadFile("assets/" + name)
		if err != nil {
			panic("graphiql: embedded asset missing: " + name)
		}
		s384 := sha512.Sum384(data)
		s256 := sha256.Sum256(data)
		short := hex.EncodeToString(s256[:])[:16]
		a := &asset{
			Name:        name,
			ContentType: contentType(name),
			Data:        data,
			SRI:         "sha384-" + base64.StdEncoding.EncodeToString(s384[:]),
			etag:        `"` + short + `"`,
			URL:         AssetPrefix + name + "?v=" + short,
		}
		byName[name] = a
		return a
	}
	pa := pageAssets{
		CSS:      load("graphiql.min.css"),
		PageCSS:  load("page.css"),
		React:    load("react.production.min.js"),
		ReactDOM: load("react-dom.production.min.js"),
		GraphiQL: load("graphiql.min.js"),
		Init:     load("init.js"),
	}
	return byName, pa
})

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	}
	return "application/octet-stream"
}

const defaultHeaders = `{
  "Authorization": "` + PlaceholderAuthorization + `"
}`

func defaultQuery(title string) string {
	return `# ` + title + `
#
# To authenticate, open the Headers tab below and
# replace <token> with your token:
#   {"Authorization": "Bearer <token>"}
# The headers go with every query and mutation, and
# with subscriptions (WebSocket connection_init).
#
# Run: Ctrl-Enter (Cmd-Enter on a Mac) or the run
# button. Docs: the book icon on the left.

{
  __typename
}
`
}

// Options are optional settings of the page.
type Options struct {
	// Query, when set, is the query the editor starts with instead of the help text.
	Query string
	// Headers, when set, is the JSON the Headers editor starts with instead of the
	// placeholder {"Authorization": "Bearer <token>"}. The page is then no longer
	// the same for everyone: serve it only to whom the headers belong.
	Headers string
}

// Handler returns an http.Handler that serves the GraphiQL page at "/" and
// its embedded assets under AssetPrefix ("/graphiql/"), and answers 404 for
// any other path. title is the page title; endpoint is the GraphQL endpoint,
// a path such as "/graphql" (resolved against the page's location, so the
// WebSocket URL for subscriptions follows http->ws, https->wss) or an
// absolute URL.
func Handler(title, endpoint string) http.Handler { return New(title, endpoint, Options{}) }

// New is Handler with options.
func New(title, endpoint string, o Options) http.Handler {
	query, headers := defaultQuery(title), defaultHeaders
	if o.Query != "" {
		query = o.Query
	}
	if o.Headers != "" {
		headers = o.Headers
	}
	byName, pa := loadAssets()
	var buf bytes.Buffer
	err := page.Execute(&buf, struct {
		Title                    string
		Endpoint                 string
		DefaultQuery             string
		DefaultHeaders           string
		PlaceholderAuthorization string
		Assets                   pageAssets
	}{
		Title:                    title,
		Endpoint:                 endpoint,
		DefaultQuery:             query,
		DefaultHeaders:           headers,
		PlaceholderAuthorization: PlaceholderAuthorization,
		Assets:                   pa,
	})
	if err != nil {
		panic("graphiql: rendering page: " + err.Error())
	}
	sum := sha256.Sum256(buf.Bytes())
	return &handler{
		page:     buf.Bytes(),
		pageETag: `"` + hex.EncodeToString(sum[:])[:16] + `"`,
		csp:      contentSecurityPolicy(endpoint),
		assets:   byName,
	}
}

// Mount routes the page ("GET /{$}") and its assets ("GET /graphiql/") on
// mux to Handler(title, endpoint).
func Mount(mux *http.ServeMux, title, endpoint string) {
	h := Handler(title, endpoint)
	mux.Handle("GET /{$}", h)
	mux.Handle("GET "+AssetPrefix, h)
}

type handler struct {
	page     []byte
	pageETag string
	csp      string
	assets   map[string]*asset
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	var a *asset
	switch {
	case p == "/":
	case strings.HasPrefix(p, AssetPrefix):
		a = h.assets[p[len(AssetPrefix):]]
		if a == nil {
			http.NotFound(w, r)
			return
		}
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	if a == nil {
		hd.Set("Content-Type", "text/html; charset=utf-8")
		hd.Set("Cache-Control", "no-cache")
		hd.Set("Content-Security-Policy", h.csp)
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("ETag", h.pageETag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(h.page))
		return
	}

	hd.Set("Content-Type", a.ContentType)
	hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	hd.Set("Vary", "Accept-Encoding")
	body, etag := a.Data, a.etag
	if acceptsGzip(r) {
		if gz := a.gzipped(); gz != nil {
			body, etag = gz, a.etag[:len(a.etag)-1]+`-gz"`
			hd.Set("Content-Encoding", "gzip")
		}
	}
	hd.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
				q := strings.ReplaceAll(params, " ", "")
				return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
			}
		}
	}
	return false
}

// contentSecurityPolicy allows the page to load only its own assets and to
// talk only to its own origin (HTTP and WebSocket), plus the endpoint's
// origin when endpoint is an absolute URL. GraphiQL's stylesheet inlines its
// fonts and images as data: URLs, and React sets inline styles.
func contentSecurityPolicy(endpoint string) string {
	connect := "'self'"
	if u, err := url.Parse(endpoint); err == nil && u.Scheme != "" && u.Host != "" {
		httpScheme, wsScheme := "http", "ws"
		if u.Scheme == "https" || u.Scheme == "wss" {
			httpScheme, wsScheme = "https", "wss"
		}
		connect += " " + httpScheme + "://" + u.Host + " " + wsScheme + "://" + u.Host
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data:",
		"font-src 'self' data:",
		"connect-src " + connect,
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
}
