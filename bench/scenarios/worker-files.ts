/** The load-generator entry points, forked as separate processes. */
export const MQTT_PUBLISHER = new URL('../workers/mqtt-publisher.ts', import.meta.url);
export const MQTT_SUBSCRIBER = new URL('../workers/mqtt-subscriber.ts', import.meta.url);
export const MQTT_LATENCY = new URL('../workers/mqtt-latency.ts', import.meta.url);
export const AMQP_PUBLISHER = new URL('../workers/amqp-publisher.ts', import.meta.url);
export const AMQP_CONSUMER = new URL('../workers/amqp-consumer.ts', import.meta.url);
export const AMQP_E2E = new URL('../workers/amqp-e2e.ts', import.meta.url);
