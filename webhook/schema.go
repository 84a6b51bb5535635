package webhook

import _ "embed"

// PayloadSchema is the JSON Schema (draft 2020-12) of every delivery's body, kept in
// schema/payload.schema.json; tests validate every delivery they receive against it.
//
//go:embed schema/payload.schema.json
var PayloadSchema []byte
