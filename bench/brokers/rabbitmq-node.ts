import { join } from 'node:path'

/** Where and how one private RabbitMQ node runs: everything under `dir`, every port on 127.0.0.1. */
export interface RabbitmqNodePlan {
  readonly dir: string
  readonly nodeName: string
  readonly amqpPort: number
  readonly distPort: number
  readonly epmdPort: number
}

/** Console (kept by the harness for error reports) gets warnings; the log file under dir gets info. */
export const RABBITMQ_CONFIG = ['log.console = true', 'log.console.level = warning', 'log.file.level = info', ''].join('\n')

/** No plugins: neither management nor anything the system's enabled_plugins file lists. */
export const ENABLED_PLUGINS = '[].\n'

export const CONFIG_FILE = 'rabbitmq.conf'
export const ENABLED_PLUGINS_FILE = 'enabled_plugins'

export function logFile(plan: RabbitmqNodePlan): string {
  return join(plan.dir, 'log', `${plan.nodeName}.log`)
}

/**
 * The environment for the rabbitmq-server script. Inherited RABBITMQ_* and ERL_EPMD_* variables
 * are dropped so that a user's settings for a system node cannot leak into this one; the system
 * rabbitmq-env.conf and advanced.config are pointed at files that do not exist.
 */
export function rabbitmqEnv(plan: RabbitmqNodePlan, inherited: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const kept = Object.fromEntries(
    Object.entries(inherited).filter(([name]) => !name.startsWith('RABBITMQ_') && !name.startsWith('ERL_EPMD_') && name !== 'NOTIFY_SOCKET')
  )
  return {
    ...kept,
    // The Erlang cookie is created in $HOME.
    HOME: plan.dir,
    ERL_EPMD_PORT: String(plan.epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_NODENAME: plan.nodeName,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(plan.amqpPort),
    RABBITMQ_DIST_PORT: String(plan.distPort),
    RABBITMQ_MNESIA_BASE: join(plan.dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(plan.dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(plan.dir, CONFIG_FILE),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(plan.dir, ENABLED_PLUGINS_FILE),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(plan.dir, 'advanced.config'),
    RABBITMQ_CONF_ENV_FILE: join(plan.dir, 'rabbitmq-env.conf'),
    RABBITMQ_PID_FILE: join(plan.dir, 'rabbitmq.pid'),
    // The harness starts the node's epmd itself; distribution listens on loopback only.
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}'
  }
}
