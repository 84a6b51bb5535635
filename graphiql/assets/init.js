// Boots GraphiQL from the self-hosted UMD bundles (React, ReactDOM and
// GraphiQL are globals loaded by the page before this script).
//
// The page passes its settings as data-* attributes on #graphiql, so the page
// has no inline script and works under a Content-Security-Policy of
// script-src 'self'.
(function () {
  'use strict';

  var root = document.getElementById('graphiql');
  var cfg = root.dataset;

  // The endpoint may be a path ("/graphql") or an absolute URL. Resolve it
  // against the page location and derive the WebSocket URL from it:
  // http -> ws, https -> wss, same host, same path.
  var url = new URL(cfg.endpoint || '/graphql', window.location.href);
  var wsUrl = new URL(url.href);
  wsUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';

  // Queries and mutations go over HTTP POST; subscriptions go over a
  // graphql-transport-ws WebSocket on the same path. GraphiQL sends the
  // headers from its Headers editor with every HTTP request, and as the
  // connection_init payload of the WebSocket (so the server reads
  // payload.Authorization there).
  var fetcher = GraphiQL.createFetcher({
    url: url.href,
    subscriptionUrl: wsUrl.href,
  });

  // The Headers editor starts with a placeholder token. Never send the
  // placeholder itself: drop the header until the user puts a real token in.
  var placeholder = cfg.placeholderAuthorization || '';
  function withoutPlaceholder(headers) {
    if (!headers || !placeholder) {
      return headers;
    }
    var out = {};
    Object.keys(headers).forEach(function (k) {
      if (k.toLowerCase() === 'authorization' && String(headers[k]).trim() === placeholder) {
        return;
      }
      out[k] = headers[k];
    });
    return out;
  }
  function guardedFetcher(params, opts) {
    if (opts && opts.headers) {
      opts = Object.assign({}, opts, { headers: withoutPlaceholder(opts.headers) });
    }
    return fetcher(params, opts);
  }

  var props = {
    fetcher: guardedFetcher,
    defaultQuery: cfg.defaultQuery,
    defaultHeaders: cfg.defaultHeaders,
    isHeadersEditorEnabled: true,
    // Keep the headers (the token) across reloads, in localStorage; GraphiQL's
    // settings dialog turns it off.
    shouldPersistHeaders: true,
    defaultEditorToolsVisibility: 'headers',
    inputValueDeprecation: true,
  };

  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));
})();
