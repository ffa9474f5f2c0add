// The uplink's QoS 2 exchanges a lost link left open, finished on the next one. The remote keeps a
// QoS 2 PUBLISH it answered with PUBREC until the PUBREL, in the session; each link is a new mqtt.js
// client, so the bridge sent the message again under a new packet id and never the PUBREL. The old
// id stayed taken at the remote, contrary to [MQTT-4.4.0-1] (a resumed session resends its PUBRELs
// with their original ids), and a later PUBLISH under it is a resend there: a Wharf remote answers
// PUBREC and does not route it [MQTT-4.3.3-10], and the bridge deletes it as confirmed, lost.
// Packet ids of QoS 2 PUBLISHes without a PUBCOMP are kept here, across links; a link that resumes
// the session sends their PUBRELs first and waits for the PUBCOMPs before anything else goes. What
// the remote released so reaches its subscribers once more than the bridge's own resend: a repeat,
// counted as redelivered. Kept in memory: a crash of the edge leaves such ids at the remote.
import type { MqttClient } from 'mqtt'
import mqttPacket from 'mqtt-packet'

export class UplinkQos2Exchanges {
  private readonly open = new Set<number>()

  /** Follows one link: a QoS 2 PUBLISH opens its id; its PUBCOMP, or an ack that ends it early, closes it. */
  follow(client: MqttClient): void {
    client.on('packetsend', packet => {
      if (packet.cmd === 'publish' && packet.qos === 2 && packet.messageId !== undefined) this.open.add(packet.messageId)
    })
    client.on('packetreceive', packet => {
      // A PUBACK answers a QoS 2 PUBLISH at a remote that takes QoS 1 only (RabbitMQ's MQTT plugin before 3.13).
      const ends = packet.cmd === 'pubcomp' || packet.cmd === 'puback' || (packet.cmd === 'pubrec' && (packet.reasonCode ?? 0) >= 0x80)
      if (ends && packet.messageId !== undefined) this.open.delete(packet.messageId)
    })
  }

  /**
   * On a new link, before it sends anything else: the open exchanges' PUBRELs when the remote resumed
   * the session (else the remote has forgotten them). Resolves once their PUBCOMPs came, or after
   * timeoutMs (those not answered are given up), with how many the remote held and released.
   */
  async finish(client: MqttClient, sessionPresent: boolean, protocolVersion: 4 | 5, timeoutMs: number): Promise<number> {
    const ids = [...this.open]
    this.open.clear()
    if (ids.length === 0 || !sessionPresent) return 0
    const waiting = new Set(ids)
    let released = 0
    await new Promise<void>(resolve => {
      const done = (): void => {
        clearTimeout(timer)
        client.off('packetreceive', onPacket)
        client.off('close', done)
        resolve()
      }
      const onPacket = (packet: mqttPacket.Packet): void => {
        if (packet.cmd !== 'pubcomp' || packet.messageId === undefined || !waiting.delete(packet.messageId)) return
        // 0x92 Packet Identifier not found: the remote never took that PUBLISH.
        if ((packet.reasonCode ?? 0) === 0) released++
        if (waiting.size === 0) done()
      }
      const timer = setTimeout(done, timeoutMs)
      client.on('packetreceive', onPacket)
      client.on('close', done)
      for (const messageId of ids) client.stream.write(mqttPacket.generate({ cmd: 'pubrel', messageId }, { protocolVersion }))
    })
    return released
  }
}
