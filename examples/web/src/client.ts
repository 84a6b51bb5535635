// The GraphQL client: urql over HTTP for queries and mutations, and graphql-ws (the
// graphql-transport-ws protocol) for subscriptions. Both carry the sign-in JWT: HTTP in
// the Authorization header, the WebSocket in connection_init's payload.
import { Client, fetchExchange, makeOperation, mapExchange, subscriptionExchange, type Exchange } from '@urql/core';
import { createClient as createWSClient, type Client as WSClient } from 'graphql-ws';
import type { Config } from './config';

export interface API {
  client: Client;
  ws: WSClient;
  close(): void;
}

// Trusted documents: graphql-codegen's client preset stamps every document with the ID it
// wrote into persisted-documents.json (__meta__.hash). Sent as Apollo's persistedQuery
// extension, the document's text stays home (urql then leaves "query" out), over HTTP and
// in the WebSocket's subscribe message alike.
const trustedDocumentsExchange: Exchange = mapExchange({
  onOperation(op) {
    const hash = (op.query as { __meta__?: { hash?: string } }).__meta__?.hash;
    if (!hash || op.kind === 'teardown') return op;
    return makeOperation(op.kind, { ...op, extensions: { ...op.extensions, persistedQuery: { version: 1, sha256Hash: hash } } }, op.context);
  },
});

export type SocketState = 'connecting' | 'connected' | 'closed';

export function connect(cfg: Config, token: string, onSocket: (s: SocketState, detail?: string) => void): API {
  const ws = createWSClient({
    url: cfg.wsURL,
    connectionParams: { Authorization: `Bearer ${token}` },
    lazy: true,
    retryAttempts: 5,
    on: {
      connecting: () => onSocket('connecting'),
      connected: () => onSocket('connected'),
      closed: (e) => {
        const ev = e as CloseEvent | undefined;
        onSocket('closed', ev && typeof ev.code === 'number' ? `${ev.code} ${ev.reason}`.trim() : undefined);
      },
    },
  });
  const client = new Client({
    url: cfg.apiURL,
    // POST for every operation (no GET for queries), no document cache: each query asks
    // the server, which keeps the example's behaviour obvious.
    preferGetMethod: false,
    requestPolicy: 'network-only',
    fetchOptions: () => ({
      headers: {
        Authorization: `Bearer ${token}`,
        // urql's default Accept also lists text/event-stream (for incremental delivery),
        // and the server answers any request that accepts it as a Server-Sent Events
        // stream: ask for one JSON answer instead (subscriptions use the WebSocket).
        Accept: 'application/graphql-response+json, application/json',
      },
    }),
    exchanges: [
      ...(cfg.trustedDocuments ? [trustedDocumentsExchange] : []),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
  return { client, ws, close: () => void ws.dispose() };
}
