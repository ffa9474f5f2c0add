// The byte sizes that the config's defaults (defaults.ts) and bounds (validate-config.ts) are written in.
export const kibibyte = 1024
export const mebibyte = 1024 * kibibyte
