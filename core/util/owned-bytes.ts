// A message body that outlives the read it came in: a view into a socket's read chunk keeps the
// whole chunk in memory (16 to 64 KiB) for as long as the message is queued, outside the V8 heap
// where neither the queue byte limits nor the memory watermark see it. Measured: 2,000 queued 64-byte
// MQTT messages (a session subscribed to 2% of the traffic) held 8.8 MB of chunks. A body that would
// keep more than twice its own size alive gets an allocation of its own, as AMQP bodies do
// (adapters/amqp/content-assembler.ts); not a slice of Node's shared pool, which would keep its 8 KiB
// slab alive in the same way.
export function ownedBytes(view: Buffer): Buffer {
  if (view.buffer.byteLength <= 2 * view.length) return view
  const own = Buffer.allocUnsafeSlow(view.length)
  view.copy(own)
  return own
}
