// Permission regexes compiled once and kept in a small bounded cache: a check is a Map lookup and one
// RegExp test. RabbitMQ's semantics: the regex is searched for (not anchored: write '^...$' to anchor),
// and the empty string is a synonym for '^$'.
const cacheEntriesMax = 1024
const cache = new Map<string, RegExp | null>()

/** Matches nothing; what an invalid regex (which validation refuses before it is stored) compiles to. */
export const matchNothing = '(?!)'

export function compilePermission(source: string): RegExp | null {
  const cached = cache.get(source)
  if (cached !== undefined) return cached
  let re: RegExp | null
  try {
    re = new RegExp(source === '' ? '^$' : source)
  } catch {
    re = null
  }
  // Drop the oldest entry: Maps iterate in insertion order.
  if (cache.size >= cacheEntriesMax) cache.delete(cache.keys().next().value as string)
  cache.set(source, re)
  return re
}

export function permissionMatches(source: string, name: string): boolean {
  return compilePermission(source)?.test(name) === true
}

/** Why a permission regex is refused (it does not compile), or null. For config and API validation. */
export function permissionRegexProblem(source: string): string | null {
  try {
    void new RegExp(source)
    return null
  } catch (err) {
    return (err as Error).message
  }
}
