// What RabbitMQ's management API does to a listed collection, from the query string:
//   sort=<field or dotted.path> & sort_reverse=true           order (default: vhost, then name)
//   page=<n> & page_size=<n> & name=<text> & use_regex=true    one page, as an object with the counts
//   columns=a,b.c                                              each item cut down to those fields
// Without `page` the answer is a plain array (the name filter needs pagination, as in RabbitMQ).
// Pure: the route gets items, this gets the query and returns what is sent.

export type Item = Record<string, unknown>

export interface Page {
  filtered_count: number
  item_count: number
  items: Item[]
  page: number
  page_count: number
  page_size: number
  total_count: number
}

/** RabbitMQ's bounds on page_size. */
export const pageSizeDefault = 100
export const pageSizeMax = 500
/** A name filter regex longer than this is refused (it runs against every item). */
const nameRegexCharsMax = 1000

export class ListQueryError extends Error {}

export function applyListQuery(items: readonly Item[], query: URLSearchParams): Item[] | Page {
  const sorted = sortItems(items, query.get('sort'), query.get('sort_reverse') === 'true')
  const columns = parseColumns(query.get('columns'))
  const pageText = query.get('page')
  if (pageText === null) return sorted.map(i => pick(i, columns))
  const page = positiveInt(pageText, 'page')
  const pageSizeText = query.get('page_size')
  const pageSize = pageSizeText === null ? pageSizeDefault : positiveInt(pageSizeText, 'page_size')
  if (pageSize > pageSizeMax) throw new ListQueryError(`page_size must be at most ${pageSizeMax}, got ${pageSize}`)
  const filtered = filterByName(sorted, query.get('name'), query.get('use_regex') === 'true')
  const pageCount = Math.max(1, Math.ceil(filtered.length / pageSize))
  if (page > pageCount) throw new ListQueryError(`page ${page} is past the last page (${pageCount})`)
  const items_ = filtered.slice((page - 1) * pageSize, page * pageSize).map(i => pick(i, columns))
  return {
    filtered_count: filtered.length,
    item_count: items_.length,
    items: items_,
    page,
    page_count: pageCount,
    page_size: pageSize,
    total_count: items.length
  }
}

/** columns= on one object (GET of a single queue, the overview). */
export function applyColumns(item: Item, query: URLSearchParams): Item {
  return pick(item, parseColumns(query.get('columns')))
}

function sortItems(items: readonly Item[], sort: string | null, reverse: boolean): Item[] {
  const keys = sort === null || sort === '' ? ['vhost', 'name'] : [sort]
  const out = [...items].sort((a, b) => {
    for (const k of keys) {
      const c = compare(valueAt(a, k), valueAt(b, k))
      if (c !== 0) return c
    }
    return 0
  })
  return reverse ? out.reverse() : out
}

/** Numbers by value, everything else as text; missing values first. */
function compare(a: unknown, b: unknown): number {
  if (a === b) return 0
  if (a === undefined || a === null) return -1
  if (b === undefined || b === null) return 1
  if (typeof a === 'number' && typeof b === 'number') return a - b
  const x = String(a)
  const y = String(b)
  return x < y ? -1 : x > y ? 1 : 0
}

function filterByName(items: Item[], name: string | null, useRegex: boolean): Item[] {
  if (name === null || name === '') return items
  if (!useRegex) {
    const needle = name.toLowerCase()
    return items.filter(i =>
      String(i.name ?? '')
        .toLowerCase()
        .includes(needle)
    )
  }
  if (name.length > nameRegexCharsMax) throw new ListQueryError(`name regex longer than ${nameRegexCharsMax} characters`)
  let re: RegExp
  try {
    re = new RegExp(name)
  } catch (err) {
    throw new ListQueryError(`name is not a valid regex: ${(err as Error).message}`)
  }
  return items.filter(i => re.test(String(i.name ?? '')))
}

function parseColumns(text: string | null): string[][] | null {
  if (text === null || text.trim() === '') return null
  return text
    .split(',')
    .map(c => c.trim())
    .filter(c => c !== '')
    .map(c => c.split('.'))
}

/** The item with only the given (dotted) columns; a column the item lacks is left out. */
function pick(item: Item, columns: string[][] | null): Item {
  if (columns === null) return item
  const out: Item = {}
  for (const path of columns) {
    const value = valueAt(item, path.join('.'))
    if (value === undefined) continue
    let into = out
    for (const key of path.slice(0, -1)) {
      if (typeof into[key] !== 'object' || into[key] === null) into[key] = {}
      into = into[key] as Item
    }
    into[path[path.length - 1] as string] = value
  }
  return out
}

function valueAt(item: Item, dotted: string): unknown {
  let v: unknown = item
  for (const key of dotted.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined
    v = (v as Item)[key]
  }
  return v
}

function positiveInt(text: string, name: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(text)) throw new ListQueryError(`${name} must be a positive integer, got '${text}'`)
  return Number(text)
}
