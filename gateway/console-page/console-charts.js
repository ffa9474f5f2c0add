// Live charts on uPlot (served from its npm package): a rolling window of points, one chart per
// figure. Each figure carries data-points and data-last (the newest values) for tests and tooling.
const windowPoints = 180

const palette = ['#0a6cbd', '#1e8e4e', '#d9822b', '#8e44ad']

export class LiveChart {
  constructor(figure, seriesNames, format = v => v) {
    this.figure = figure
    this.names = seriesNames
    this.data = [[], ...seriesNames.map(() => [])]
    const width = Math.max(300, figure.clientWidth - 16)
    this.plot = new uPlot(
      {
        width,
        height: 190,
        legend: { show: true, live: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        // Whole seconds and up between x ticks, at least 70 px apart: labels never repeat.
        axes: [
          {
            stroke: '#66727f',
            space: 70,
            incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600],
            values: (_u, ticks) => ticks.map(t => new Date(t * 1000).toLocaleTimeString([], { hour12: false }))
          },
          { stroke: '#66727f', size: 64, values: (_u, ticks) => ticks.map(format) }
        ],
        series: [
          {},
          ...seriesNames.map((label, i) => ({ label, stroke: palette[i % palette.length], width: 2, value: (_u, v) => (v == null ? '–' : format(v)) }))
        ]
      },
      this.data,
      figure
    )
    new ResizeObserver(() => this.plot.setSize({ width: Math.max(300, figure.clientWidth - 16), height: 190 })).observe(figure)
  }

  push(atMs, values) {
    this.data[0].push(atMs / 1000)
    for (const [i, v] of values.entries()) this.data[i + 1].push(v)
    if (this.data[0].length > windowPoints) for (const s of this.data) s.shift()
    this.plot.setData(this.data)
    this.figure.dataset.points = String(this.data[0].length)
    this.figure.dataset.last = JSON.stringify(Object.fromEntries(this.names.map((n, i) => [n, values[i]])))
  }
}

export function bytes(n) {
  if (n == null) return '–'
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let i = 0
  while (Math.abs(n) >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return `${n >= 10 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`
}

export function count(n) {
  if (n == null) return '–'
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(1)}M`
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(0)}k`
  return Number.isInteger(n) ? String(n) : n.toFixed(1)
}
