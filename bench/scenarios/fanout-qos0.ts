import { fanoutScenario } from './fanout.ts'

export const fanoutQos0 = fanoutScenario(0)
