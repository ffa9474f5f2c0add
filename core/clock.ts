// Time is injected so that TTL, expiry, tiering age and retry backoff are testable without sleeping.
export interface Clock {
  nowMs(): number
}

export const systemClock: Clock = { nowMs: () => Date.now() }
