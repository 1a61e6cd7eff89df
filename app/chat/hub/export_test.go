package hub

// Exported for the external tests.
var DecodeBatch = decodeBatch

const NATSBatch = natsBatch

const SendQueue = sendQueue
