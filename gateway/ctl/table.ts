// Aligned text tables for `wharf ctl`: a header, then one row per item, columns padded to the widest cell.
export interface Column<T> {
  readonly title: string
  readonly value: (item: T) => unknown
}

export function formatTable<T>(items: readonly T[], columns: ReadonlyArray<Column<T>>): string {
  const rows = items.map(item => columns.map(c => cell(c.value(item))))
  const header = columns.map(c => c.title)
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] as string).length)))
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n') + '\n'
}

function cell(v: unknown): string {
  if (v === undefined || v === null) return ''
  if (Array.isArray(v)) return v.map(cell).join(',')
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v).replace(/[\r\n\t]/g, ' ')
}
