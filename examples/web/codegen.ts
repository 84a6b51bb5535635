// graphql-codegen's client preset: typed documents for every graphql() call in src/,
// from the server's schema (the files the server itself is generated from). The output
// in src/gql/ is committed; `npm run codegen:check` fails when regenerating changes it.
import type { CodegenConfig } from '@graphql-codegen/cli';

// CODEGEN_OUT writes elsewhere (scripts/codegen-check.mjs compares that with src/gql/).
const out = process.env.CODEGEN_OUT || './src/gql/';

const config: CodegenConfig = {
  schema: ['../../schema.graphqls', '../../webhooks.graphqls'],
  documents: ['src/**/*.ts', '!src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    [out]: {
      preset: 'client',
      presetConfig: {
        fragmentMasking: false,
        // Also write persisted-documents.json: the trusted-documents manifest the server
        // loads with PERSISTED_DOCUMENTS (see the README's "Trusted documents").
        persistedDocuments: true,
      },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: 'string' },
      },
    },
  },
};

export default config;
