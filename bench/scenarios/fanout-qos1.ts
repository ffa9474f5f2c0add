import { fanoutScenario } from './fanout.ts'

export const fanoutQos1 = fanoutScenario(1)
