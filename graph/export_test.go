package graph

// Exported for the tests of package graph_test (fuzz_test.go): the cursor codecs.
var (
	DecodeResolutionCursor = decodeResolutionCursor
	DecodeEventCursor      = decodeEventCursor
	ResolutionCursor       = resolutionCursor
	EventCursor            = eventCursor
)
