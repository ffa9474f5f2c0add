/** The load-generator entry points, forked as separate processes. */
export const MQTT_PUBLISHER = new URL('../workers/mqtt-publisher.ts', import.meta.url);
export const MQTT_SUBSCRIBER = new URL('../workers/mqtt-subscriber.ts', import.meta.url);
export const MQTT_LATENCY = new URL('../workers/mqtt-latency.ts', import.meta.url);
export const AMQP_PUBLISHER = new URL('../workers/amqp-publisher.ts', import.meta.url);
export const AMQP_CONSUMER = new URL('../workers/amqp-consumer.ts', import.meta.url);
export const AMQP_E2E = new URL('../workers/amqp-e2e.ts', import.meta.url);
export const MQTT_RATE_PUBLISHER = new URL('../workers/mqtt-rate-publisher.ts', import.meta.url);
export const AMQP_RATE_PUBLISHER = new URL('../workers/amqp-rate-publisher.ts', import.meta.url);
export const AMQP_LATENCY_CONSUMER = new URL('../workers/amqp-latency-consumer.ts', import.meta.url);
export const MQTT_WS_LATENCY_SUBSCRIBER = new URL('../workers/mqtt-ws-latency-subscriber.ts', import.meta.url);
