// MQTT 5 enhanced authentication (§4.12): a method is named by the CONNECT's Authentication Method
// (0x15) and runs one exchange per CONNECT (or re-authentication), fed each Authentication Data (0x16)
// the client sends. The engine owns the packets; a method only judges the data.

/** What the server answers to one client message. */
export type AuthStep =
  /** AUTH 0x18 Continue authentication, carrying this Authentication Data. */
  | { kind: 'continue'; data: Buffer }
  /** CONNACK 0x00 (AUTH 0x00 on re-authentication), carrying `data` as Authentication Data if given. */
  | { kind: 'success'; username: string; data?: Buffer }
  /** CONNACK (or DISCONNECT on re-authentication) with `reasonCode`; `reason` is safe to send as Reason String. */
  | { kind: 'failure'; reasonCode: number; reason: string }

export interface AuthExchange {
  /** Never rejects: malformed input is a failure step. After a success or failure every step fails. */
  step(clientData: Buffer | undefined): Promise<AuthStep>
}

export interface AuthStartContext {
  clientId: string
  /**
   * The user the CONNECT's User Name names (without its 'vhost:' part, which picks the vhost; undefined
   * when there is none, or only 'vhost:'), or on re-authentication the name the connection authenticated as.
   */
  username: string | undefined
}

export interface EnhancedAuthMethod {
  readonly name: string
  start(ctx: AuthStartContext): AuthExchange
}

/** The reason codes a method may fail with (MQTT 5 §3.2.2.2). */
export const authReasonCode = {
  unspecifiedError: 0x80,
  protocolError: 0x82,
  badUserNameOrPassword: 0x86,
  notAuthorized: 0x87
} as const

/** The methods a listener offers, by name; CONNECT with any other name gets 0x8C Bad authentication method. */
export class AuthMethods {
  private readonly byName = new Map<string, EnhancedAuthMethod>()

  register(m: EnhancedAuthMethod): void {
    // A second method under one name would silently shadow the first: a wiring mistake, not input.
    if (this.byName.has(m.name)) throw new Error(`enhanced auth: register ${m.name}: a method of that name is already registered`)
    this.byName.set(m.name, m)
  }

  get(name: string): EnhancedAuthMethod | undefined {
    return this.byName.get(name)
  }

  names(): string[] {
    return [...this.byName.keys()]
  }
}
