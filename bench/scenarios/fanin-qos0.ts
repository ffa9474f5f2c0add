import { faninScenario } from './fanin.ts'

export const faninQos0 = faninScenario(0)
