// An MQTT 5 remote's PUBACK (QoS 1) or PUBREC (QoS 2) 0x10 No matching subscribers: it took the
// message and had no one to give it to, so it dropped it (mqtt.js, rightly, takes 0x10 for success).
// The bridge deletes the message as confirmed; this tells it, so the drop at the remote is counted.
// A retained message is kept there as retained, and is not told.
import type { MqttClient } from 'mqtt'

const NO_MATCHING_SUBSCRIBERS = 0x10

export function watchUnrouted(client: MqttClient, onUnrouted: (topic: string, reason: string) => void): void {
  const sent = new Map<number, string>()
  client.on('packetsend', packet => {
    if (packet.cmd === 'publish' && packet.qos > 0 && !packet.retain && packet.messageId !== undefined) sent.set(packet.messageId, packet.topic)
  })
  client.on('packetreceive', packet => {
    if ((packet.cmd !== 'puback' && packet.cmd !== 'pubrec') || packet.messageId === undefined) return
    const topic = sent.get(packet.messageId)
    sent.delete(packet.messageId)
    if (topic !== undefined && packet.reasonCode === NO_MATCHING_SUBSCRIBERS) onUnrouted(topic, `${packet.cmd.toUpperCase()} 0x10 No matching subscribers`)
  })
}
