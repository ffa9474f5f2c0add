// The one error the MQTT codec raises for bad input from the wire. The engine answers it with
// CONNACK or DISCONNECT carrying reasonCode (MQTT 5), or closes the connection (3.1.1).

export class MqttCodecError extends Error {
  override name = 'MqttCodecError'
  readonly reasonCode: number

  constructor (reasonCode: number, message: string) {
    super(message)
    this.reasonCode = reasonCode
  }
}
