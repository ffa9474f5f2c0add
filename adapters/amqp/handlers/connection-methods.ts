// connection class (10): the handshake (start-ok, tune-ok, open), update-secret and close.
import { Methods } from '../codec/amqp-defs.ts'
import { FRAME_MIN_SIZE } from '../codec/frame-format.ts'
import { ACCESS_REFUSED, CHANNEL_ERROR, NOT_ALLOWED } from '../codec/reply-codes.ts'
import { AmqpException } from '../amqp-errors.ts'
import { parseSaslResponse } from '../sasl.ts'
import type { AmqpConnection, ConnectionState } from '../connection.ts'
import type { Principal } from '../../../core/auth/access-types.ts'
import type { LoginResult } from '../../../core/auth/access-control.ts'
import { vhostRefusal } from '../../../core/auth/access-check.ts'
import { onConnection, type RouteEntry } from './route.ts'

function expectState(conn: AmqpConnection, state: ConnectionState, methodId: number): void {
  if (conn.state !== state) throw new AmqpException(CHANNEL_ERROR, `unexpected method in connection state ${conn.state}`, methodId)
}

async function startOk(conn: AmqpConnection, f: { clientProperties: Record<string, unknown>; mechanism: string; response: Buffer }): Promise<void> {
  expectState(conn, 'starting', Methods.ConnectionStartOk)
  conn.clientProperties = f.clientProperties as typeof conn.clientProperties
  const capabilities = f.clientProperties.capabilities as Record<string, unknown> | undefined
  conn.consumerCancelNotify = capabilities?.consumer_cancel_notify === true
  const refused = (reason: string): AmqpException => {
    conn.counters.authFailures.inc()
    conn.log.warn('login refused', { mechanism: f.mechanism, reason })
    return new AmqpException(
      ACCESS_REFUSED,
      `Login was refused using authentication mechanism ${f.mechanism}. For details see the broker logfile.`,
      Methods.ConnectionStartOk
    )
  }
  if (!conn.mechanisms.includes(f.mechanism)) throw refused(`unsupported mechanism ${f.mechanism}`)
  const result = f.mechanism === 'EXTERNAL' ? externalLogin(conn) : await passwordLogin(conn, f.mechanism, f.response)
  if (!result.ok) throw refused(result.reason)
  conn.user = result.principal
  conn.authenticated(result.principal.username ?? '')
  conn.state = 'tuning'
  const { channelMax, frameMaxBytes, heartbeatSeconds } = conn.ctx.limits
  conn.sendMethod(0, Methods.ConnectionTune, { channelMax, frameMax: frameMaxBytes, heartbeat: heartbeatSeconds })
}

async function passwordLogin(conn: AmqpConnection, mechanism: string, response: Buffer): Promise<LoginResult> {
  const credentials = parseSaslResponse(mechanism, response)
  if (credentials === undefined) return { ok: false, reason: 'malformed response' }
  return await conn.ctx.access.login(credentials.username, credentials.password, conn.socket.remoteAddress)
}

/** SASL EXTERNAL (offered only where a verified client certificate names the user): the response is not used. */
function externalLogin(conn: AmqpConnection): LoginResult {
  const identity = conn.peer.certificateIdentity
  if (identity === undefined) return { ok: false, reason: 'EXTERNAL without a client certificate' }
  if (identity.username === null) return { ok: false, reason: `the client certificate has no ${identity.source} to take the username from` }
  return conn.ctx.access.certificateLogin(identity.username, identity.source)
}

/**
 * [RabbitMQ 3.8+] A client refreshes its credential (an OAuth token, a rotated password) without
 * reconnecting: the new secret is checked as the password of the connection's user. As RabbitMQ,
 * a refused one closes the connection with 530 NOT_ALLOWED.
 */
async function updateSecret(conn: AmqpConnection, f: { newSecret: Buffer; reason: string }): Promise<void> {
  expectState(conn, 'open', Methods.ConnectionUpdateSecret)
  const username = (conn.user as Principal).username ?? ''
  const result = await conn.ctx.access.login(username, f.newSecret.toString('utf8'), conn.socket.remoteAddress)
  if (!result.ok) {
    conn.counters.authFailures.inc()
    conn.log.warn('secret update refused', { user: username, reason: f.reason, cause: result.reason })
    throw new AmqpException(NOT_ALLOWED, 'New secret was refused by one of the backends', Methods.ConnectionUpdateSecret)
  }
  conn.sendMethod(0, Methods.ConnectionUpdateSecretOk, {})
  conn.log.info('secret updated', { user: username, reason: f.reason })
}

export const connectionMethods: readonly RouteEntry[] = [
  onConnection(Methods.ConnectionStartOk, startOk),

  onConnection(Methods.ConnectionTuneOk, (conn, f) => {
    expectState(conn, 'tuning', Methods.ConnectionTuneOk)
    const { channelMax, frameMaxBytes } = conn.ctx.limits
    // 0 means "no limit" from the client: the server's limit applies.
    const frameMax = f.frameMax === 0 ? frameMaxBytes : f.frameMax
    if (frameMax < FRAME_MIN_SIZE) throw new AmqpException(NOT_ALLOWED, `frame_max=${frameMax} < ${FRAME_MIN_SIZE} min size`, Methods.ConnectionTuneOk)
    if (frameMax > frameMaxBytes) throw new AmqpException(NOT_ALLOWED, `frame_max=${frameMax} > ${frameMaxBytes} max size`, Methods.ConnectionTuneOk)
    const channels = f.channelMax === 0 ? channelMax : f.channelMax
    if (channels > channelMax) throw new AmqpException(NOT_ALLOWED, `channel_max=${channels} > ${channelMax} max size`, Methods.ConnectionTuneOk)
    conn.frameMax = frameMax
    conn.channelMax = channels
    conn.heartbeatSeconds = f.heartbeat
    conn.reader.setFrameMax(frameMax)
    conn.state = 'opening'
  }),

  onConnection(Methods.ConnectionOpen, (conn, f) => {
    expectState(conn, 'opening', Methods.ConnectionOpen)
    const vhost = conn.ctx.broker.vhost(f.virtualHost)
    if (vhost === undefined) throw new AmqpException(NOT_ALLOWED, `vhost '${f.virtualHost}' not found`, Methods.ConnectionOpen)
    const user = conn.user as Principal
    const username = user.username ?? ''
    // [RabbitMQ rabbit_reader] the vhost's and the user's connection limits are checked first, 530 NOT_ALLOWED.
    const admission = conn.ctx.abuseLimits?.admit('amqp', username, f.virtualHost)
    if (admission !== undefined) {
      if (!admission.ok) throw new AmqpException(NOT_ALLOWED, admission.reason, Methods.ConnectionOpen)
      conn.releaseAdmission = admission.release
    }
    // [RabbitMQ] a user without any permissions in the vhost may not open it.
    const access = conn.ctx.access.vhostAccess(user, f.virtualHost, { username, vhost: f.virtualHost })
    if (access === undefined) throw new AmqpException(NOT_ALLOWED, vhostRefusal(f.virtualHost, username), Methods.ConnectionOpen)
    conn.vhost = vhost
    conn.access = access
    conn.sendMethod(0, Methods.ConnectionOpenOk, {})
    conn.opened()
    conn.log.info('connection opened', {
      ...conn.logFields(),
      protocol: 'AMQP 0-9-1',
      heartbeatSeconds: conn.heartbeatSeconds,
      frameMax: conn.frameMax,
      channelMax: conn.channelMax
    })
  }),

  onConnection(Methods.ConnectionUpdateSecret, updateSecret),

  onConnection(Methods.ConnectionClose, (conn, f) => {
    conn.closedByClient(f.replyCode, f.replyText)
  }),

  // A close-ok while we are not closing answers nothing; while closing it is handled before dispatch.
  onConnection(Methods.ConnectionCloseOk, () => {})
]
