import { availableParallelism, cpus, release, totalmem, type } from 'node:os'

export interface Machine {
  readonly cpuModel: string
  readonly cores: number
  readonly node: string
  readonly os: string
  readonly memoryGb: number
}

export function describeMachine(): Machine {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    node: process.version,
    os: `${type()} ${release()}`,
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10
  }
}
