import { faninScenario } from './fanin.ts'

export const faninQos1 = faninScenario(1)
