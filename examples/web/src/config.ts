// Where the API and the sign-in provider are. Build-time defaults come from Vite's env
// (VITE_API_URL, VITE_ISSUER_URL); the page's query string overrides them at run time
// (?api=...&issuer=...&trusted=1), so one build can be pointed at any server (the browser test
// does that).
export interface Config {
  /** The GraphQL endpoint over HTTP, e.g. http://localhost:8080/graphql. */
  apiURL: string;
  /** The same endpoint over WebSocket (ws: or wss:). */
  wsURL: string;
  /** The local test issuer (its dev token endpoint signs the demo users in). */
  issuerURL: string;
  /**
   * Send documents by their ID in src/gql/persisted-documents.json instead of their text,
   * for a server that runs only those (PERSISTED_DOCUMENTS with PERSISTED_ONLY=true).
   */
  trustedDocuments: boolean;
}

export function loadConfig(search = window.location.search): Config {
  const params = new URLSearchParams(search);
  const apiURL = params.get('api') || import.meta.env.VITE_API_URL || 'http://localhost:8080/graphql';
  const issuerURL = (params.get('issuer') || import.meta.env.VITE_ISSUER_URL || 'http://127.0.0.1:9400').replace(/\/+$/, '');
  const ws = new URL(apiURL);
  ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
  const trusted = params.get('trusted') ?? import.meta.env.VITE_TRUSTED_DOCUMENTS ?? '';
  return { apiURL, wsURL: ws.href, issuerURL, trustedDocuments: trusted === '1' || trusted === 'true' };
}
