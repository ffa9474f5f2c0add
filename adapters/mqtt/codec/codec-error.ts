// The one error the MQTT codec raises for bad input from the wire. The engine answers it with
// CONNACK or DISCONNECT carrying reasonCode (MQTT 5), or closes the connection (3.1.1).

export class MqttCodecError extends Error {
  override name = 'MqttCodecError'
  readonly reasonCode: number

  constructor(reasonCode: number, message: string) {
    // Bad input is an operating error, not a bug: no stack trace is taken. Under a flood of malformed
    // connections, capturing one per error cost the broker more CPU than closing the connection.
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    super(message)
    Error.stackTraceLimit = limit
    this.reasonCode = reasonCode
  }
}
