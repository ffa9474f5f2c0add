// A private Mosquitto (Debian's /usr/sbin/mosquitto) on a free loopback port, with persistence in a
// temporary directory, so it can be stopped and started again with its sessions and queued messages
// (a remote outage). Stopped by process id.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { BrokerProcess, tcpPortOpen } from '../../bench/brokers/child-process.ts'
import { restartablePorts } from '../../bench/brokers/free-port.ts'
import { findMosquitto, MOSQUITTO_MISSING } from '../../bench/brokers/mosquitto.ts'

export interface MosquittoNode {
  readonly url: string
  readonly pid: number | undefined
  stopNode(): Promise<void>
  startNode(): Promise<void>
  stop(): Promise<void>
}

export function mosquittoUnavailable(): string | undefined {
  return findMosquitto() === undefined ? MOSQUITTO_MISSING : undefined
}

/** extraConfig: more mosquitto.conf lines (limits, retain_available, max_qos, an acl_file). */
export async function startMosquitto(extraConfig: readonly string[] = []): Promise<MosquittoNode> {
  const binary = findMosquitto()
  if (binary === undefined) throw new Error(MOSQUITTO_MISSING)
  const [port] = (await restartablePorts(1)) as [number]
  const dir = mkdtempSync(join(tmpdir(), 'wharf-test-mosquitto-'))
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      // Run as root, Mosquitto drops to the user `mosquitto`, which cannot write this root-owned 0700
      // directory: its persistence file was never saved, so each restart lost the messages it had
      // acknowledged and queued (the outage test's missing numbers). Stay the user that runs the test.
      `user ${userInfo().username}`,
      'persistence true',
      `persistence_location ${dir}/`,
      'max_queued_messages 1000000',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      ...extraConfig,
      ''
    ].join('\n')
  )
  let node: BrokerProcess | undefined
  const startNode = async (): Promise<void> => {
    if (node !== undefined) return
    const started = new BrokerProcess('mosquitto', binary, ['-c', conf], {})
    node = started
    await started.waitUntil(`port ${port}`, 10_000, async () => await tcpPortOpen(port))
  }
  // SIGTERM: Mosquitto writes its persistence file on the way out.
  const stopNode = async (): Promise<void> => {
    const n = node
    node = undefined
    if (n === undefined) return
    await n.stop()
    // A restart without its saved state would lose what Mosquitto acknowledged: fail here, not later.
    if (/Error saving in-memory database/.test(n.output)) throw n.failure('could not save its persistence file on SIGTERM')
  }
  await startNode()
  return {
    url: `mqtt://127.0.0.1:${port}`,
    get pid() {
      return node?.pid
    },
    startNode,
    stopNode,
    stop: async () => {
      await stopNode()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
