// The one dispatch table: method id → handler, one module per method class. A method a client
// never sends (basic.deliver, connection.start, ...) has no entry and is refused (503).
import type { MethodRoute } from './route.ts'
import { connectionMethods } from './connection-methods.ts'
import { channelMethods } from './channel-methods.ts'
import { exchangeMethods } from './exchange-methods.ts'
import { queueMethods } from './queue-methods.ts'
import { basicMethods } from './basic-methods.ts'
import { confirmMethods } from './confirm-methods.ts'
import { txMethods } from './tx-methods.ts'

export type { MethodRoute } from './route.ts'

export const methodRoutes: ReadonlyMap<number, MethodRoute> = new Map([
  ...connectionMethods,
  ...channelMethods,
  ...exchangeMethods,
  ...queueMethods,
  ...basicMethods,
  ...confirmMethods,
  ...txMethods
])
