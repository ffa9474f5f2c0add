// Every route of the management API, one module per resource.
import type { Route } from '../api-router.ts'
import { overviewRoutes } from './overview.ts'
import { connectionRoutes } from './connections.ts'
import { exchangeRoutes } from './exchanges.ts'
import { publishRoutes } from './exchange-publish.ts'
import { queueRoutes } from './queues.ts'
import { queueGetRoutes } from './queue-get.ts'
import { bindingRoutes } from './bindings.ts'
import { accessReadRoutes } from './access-reads.ts'
import { nodeRoutes } from './node-reads.ts'
import { definitionsRoutes } from './definitions.ts'
import { objectLimitRoutes } from './object-limits.ts'

export const managementRoutes: readonly Route[] = [
  ...overviewRoutes,
  ...connectionRoutes,
  ...exchangeRoutes,
  ...publishRoutes,
  ...queueRoutes,
  ...queueGetRoutes,
  ...bindingRoutes,
  ...accessReadRoutes,
  ...nodeRoutes,
  ...definitionsRoutes,
  ...objectLimitRoutes
]
