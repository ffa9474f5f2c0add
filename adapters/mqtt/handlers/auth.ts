// AUTH: the steps of an enhanced authentication exchange, at CONNECT (reason 0x18 Continue) and
// for re-authentication after it (0x19, MQTT 5 §4.12.1); the method (SCRAM-SHA-256, ...) is pluggable.
import type { IAuthPacket } from 'mqtt-packet'
import type { Engine } from '../engine.ts'
import type { MqttConnection } from '../connection.ts'
import { ReasonCode } from '../codec/reason-codes.ts'
import { accept, refuse } from './connect.ts'

export function handleAuth(engine: Engine, conn: MqttConnection, p: IAuthPacket): void {
  const props = p.properties ?? {}
  const method = props.authenticationMethod
  if (conn.protocolVersion !== 5) {
    conn.protocolError('AUTH before MQTT 5')
    return
  }
  if (conn.state === 'authenticating') {
    if (conn.auth === null || p.reasonCode !== ReasonCode.ContinueAuthentication || method !== conn.auth.method) {
      refuse(conn, ReasonCode.ProtocolError, 'AUTH does not continue the exchange begun at CONNECT') // [MQTT-4.12.0-4]
      return
    }
    runAuthStep(engine, conn, props.authenticationData)
    return
  }
  // Re-authentication: the method of CONNECT, again from the start [MQTT-4.12.1-1].
  if (conn.auth === null || method !== conn.auth.method) {
    conn.protocolError('re-authentication without the CONNECT authentication method')
    return
  }
  if (p.reasonCode === ReasonCode.ReAuthenticate) {
    const m = engine.authMethods.get(method)
    if (m === undefined) {
      conn.disconnect(reauthFailureCode(ReasonCode.BadAuthenticationMethod), 'authentication method gone')
      return
    }
    conn.auth = { method, exchange: m.start({ clientId: conn.clientId, username: conn.username ?? undefined }) }
  } else if (p.reasonCode !== ReasonCode.ContinueAuthentication) {
    conn.protocolError(`AUTH reason code 0x${p.reasonCode.toString(16)}`)
    return
  }
  runAuthStep(engine, conn, props.authenticationData)
}

/** One step of the method; the answer is AUTH 0x18, CONNACK (or AUTH 0x00 on re-authentication), or a refusal. */
export function runAuthStep(engine: Engine, conn: MqttConnection, data: Buffer | undefined): void {
  const auth = conn.auth
  if (auth === null) return
  const connecting = conn.state === 'authenticating'
  conn.guard(
    'authentication',
    auth.exchange.step(data).then(
      step => {
        if (conn.state === 'closed') return
        if (step.kind === 'continue') {
          conn.send({
            cmd: 'auth',
            reasonCode: ReasonCode.ContinueAuthentication,
            properties: { authenticationMethod: auth.method, authenticationData: step.data }
          } as never)
          return
        }
        if (step.kind === 'failure') {
          engine.counters.authFailed.inc()
          if (connecting) refuse(conn, step.reasonCode, `${auth.method}: ${step.reason}`)
          else conn.disconnect(reauthFailureCode(step.reasonCode), `re-authentication: ${step.reason}`)
          return
        }
        if (connecting) {
          const principal = engine.access.principal(step.username)
          if (principal === undefined) {
            refuse(conn, ReasonCode.NotAuthorized, `${auth.method}: user '${step.username}' is gone`)
            return
          }
          conn.guard('connect', accept(engine, conn, principal, step.data))
          return
        }
        if (step.username !== conn.username) {
          conn.disconnect(ReasonCode.NotAuthorized, 're-authentication as another user')
          return
        }
        const properties: Record<string, unknown> = { authenticationMethod: auth.method }
        if (step.data !== undefined) properties.authenticationData = step.data
        conn.send({ cmd: 'auth', reasonCode: ReasonCode.Success, properties } as never)
      },
      err => {
        engine.log.error('mqtt: authentication method failed', { clientId: conn.clientId, method: auth.method, err })
        if (connecting) refuse(conn, ReasonCode.UnspecifiedError, 'authentication failed')
        else conn.disconnect(ReasonCode.UnspecifiedError, 'authentication failed')
      }
    )
  )
}

/**
 * 0x86 Bad User Name or Password and 0x8C Bad authentication method are CONNACK codes; a DISCONNECT
 * must carry one of its own [MQTT-3.14.2-1] (mqtt.js refuses the packet otherwise): 0x87 Not authorized.
 */
function reauthFailureCode(code: number): number {
  return code === ReasonCode.BadUserNameOrPassword || code === ReasonCode.BadAuthenticationMethod ? ReasonCode.NotAuthorized : code
}
