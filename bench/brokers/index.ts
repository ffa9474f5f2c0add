import type { BrokerStarter } from './broker.ts';
import { startMosquitto } from './mosquitto.ts';
import { startWharf } from './wharf.ts';

/** Brokers the harness can start itself, by target name. */
export const BROKER_STARTERS: ReadonlyMap<string, BrokerStarter> = new Map([
  ['wharf', startWharf],
  ['mosquitto', startMosquitto],
]);
