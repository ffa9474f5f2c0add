// MQTT 3.1.1 topic rules the packet parser does not enforce on its own.

/** Returns why a topic name or filter is not acceptable, or null. */
export function invalidTopicReason (topic: string): string | null {
  // [MQTT-1.5.3-2] A UTF-8 encoded string MUST NOT include an encoding of the null character U+0000.
  if (topic.includes('\u0000')) return 'topic contains U+0000'
  // mqtt-packet decodes without validation, so ill-formed UTF-8 ([MQTT-1.5.3-1]) arrives as U+FFFD.
  // A client that really means U+FFFD is refused too: a price paid for catching bad encodings.
  if (topic.includes('\uFFFD')) return 'topic is not well-formed UTF-8'
  return null
}
