/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The GraphQL endpoint, e.g. http://localhost:8080/graphql. */
  readonly VITE_API_URL?: string;
  /** The local test issuer, e.g. http://127.0.0.1:9400. */
  readonly VITE_ISSUER_URL?: string;
  /** "true": send documents by ID (trusted documents). */
  readonly VITE_TRUSTED_DOCUMENTS?: string;
}
