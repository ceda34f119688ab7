/**
 * Charts as hand-written SVG for the benchmarks pages: a line chart (x numeric, e.g. peers in the mesh)
 * and a grouped bar chart (x a label per row). Pure: the same series give the same bytes, which is what
 * lets a test tell a committed plot from a stale one.
 */

export interface LineSeries {
  name: string
  points: { x: number; y: number }[]
}

export interface LineChart {
  kind: 'line'
  title: string
  xLabel: string
  yLabel: string
  series: LineSeries[]
}

export interface BarChart {
  kind: 'bar'
  title: string
  xLabel: string
  yLabel: string
  categories: string[]
  /** One value per category; null where the run has none. */
  series: { name: string; values: (number | null)[] }[]
}

export type Chart = LineChart | BarChart

export const WIDTH = 640
export const HEIGHT = 360
/** The plot area inside the axes. */
export const PLOT = { left: 72, right: 420, top: 40, bottom: 290 } as const
/** About how many characters of 12px text fit the legend's width. */
const LEGEND_CHARS = 26
const LINE_HEIGHT = 14
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2']

export interface Axis {
  min: number
  max: number
  ticks: number[]
}

/** A step of 1, 2, 2.5 or 5 times a power of ten that cuts the span into at most `count` parts. */
function niceStep(span: number, count: number): number {
  const raw = span / count
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 2.5, 5, 10].find((m) => m * power >= raw)! * power
  return step
}

/** Removes the float noise of summed steps (0.30000000000000004). */
const clean = (v: number) => Number.parseFloat(v.toPrecision(12))

/**
 * The value axis: from zero (costs and rates are compared to nothing, so bars and lines start there;
 * from the least value when one is negative) up to a round number at or above the largest value.
 */
export function valueAxis(values: number[], count = 5): Axis {
  const lo = Math.min(0, ...values)
  const hi = Math.max(0, ...values)
  if (hi === lo) return { min: lo, max: lo + 1, ticks: [lo, lo + 1] }
  const step = niceStep(hi - lo, count)
  const min = clean(Math.floor(lo / step) * step)
  const max = clean(Math.ceil(hi / step) * step)
  const ticks: number[] = []
  for (let v = min; v <= max + step / 2; v += step) ticks.push(clean(v))
  return { min, max, ticks }
}

/** The x axis of a line chart: the data's own x values as ticks (peers 3, 6, 12), spanning them. */
export function xAxis(xs: number[]): Axis {
  const ticks = [...new Set(xs)].sort((a, b) => a - b)
  const min = ticks[0] ?? 0
  const max = ticks.at(-1) ?? 1
  return max === min ? { min: min - 1, max: max + 1, ticks } : { min, max, ticks }
}

/** Where a value lands between two pixel positions. */
export function place(value: number, axis: Axis, from: number, to: number): number {
  return round(from + ((value - axis.min) / (axis.max - axis.min)) * (to - from))
}

const round = (v: number) => Math.round(v * 10) / 10

export function formatNumber(v: number): string {
  if (v === 0) return '0'
  const abs = Math.abs(v)
  if (abs >= 10_000) return `${clean(v / 1000)}k`
  return String(clean(Number.parseFloat(v.toPrecision(abs < 1 ? 2 : 4))))
}

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
}

function text(x: number, y: number, body: string, attrs = ''): string {
  return `<text x="${x}" y="${y}"${attrs ? ` ${attrs}` : ''}>${escapeXml(body)}</text>`
}

/** Breaks text at spaces into lines of at most `chars` characters (a longer word keeps its own line). */
export function wrap(body: string, chars: number): string[] {
  const lines: string[] = []
  for (const word of body.split(/\s+/).filter(Boolean)) {
    const last = lines.at(-1)
    if (last !== undefined && last.length + 1 + word.length <= chars)
      lines[lines.length - 1] = `${last} ${word}`
    else lines.push(word)
  }
  return lines
}

/** Text on as many lines as `wrap` makes, the first at y. */
function wrappedText(x: number, y: number, lines: string[], attrs = ''): string {
  const spans = lines.map(
    (line, i) => `<tspan x="${x}" dy="${i === 0 ? 0 : LINE_HEIGHT}">${escapeXml(line)}</tspan>`,
  )
  return `<text x="${x}" y="${y}"${attrs ? ` ${attrs}` : ''}>${spans.join('')}</text>`
}

function frame(chart: Chart, yAxis: Axis, xTicks: string[]): string[] {
  const out = [
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    text(WIDTH / 2, 22, chart.title, 'text-anchor="middle" font-size="15" font-weight="bold"'),
  ]
  for (const tick of yAxis.ticks) {
    const y = place(tick, yAxis, PLOT.bottom, PLOT.top)
    out.push(`<line x1="${PLOT.left}" y1="${y}" x2="${PLOT.right}" y2="${y}" stroke="#e5e7eb"/>`)
    out.push(text(PLOT.left - 6, y + 4, formatNumber(tick), 'text-anchor="end"'))
  }
  out.push(
    `<line x1="${PLOT.left}" y1="${PLOT.bottom}" x2="${PLOT.right}" y2="${PLOT.bottom}" stroke="#374151"/>`,
    `<line x1="${PLOT.left}" y1="${PLOT.top}" x2="${PLOT.left}" y2="${PLOT.bottom}" stroke="#374151"/>`,
    ...xTicks,
    text((PLOT.left + PLOT.right) / 2, HEIGHT - 6, chart.xLabel, 'text-anchor="middle" font-weight="bold"'),
    text(
      18,
      (PLOT.top + PLOT.bottom) / 2,
      chart.yLabel,
      `text-anchor="middle" transform="rotate(-90 18 ${(PLOT.top + PLOT.bottom) / 2})"`,
    ),
  )
  let y = PLOT.top + 8
  chart.series.forEach((s, i) => {
    const lines = wrap(s.name, LEGEND_CHARS)
    out.push(
      `<rect x="${PLOT.right + 16}" y="${y - 9}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`,
    )
    out.push(wrappedText(PLOT.right + 34, y + 1, lines))
    y += lines.length * LINE_HEIGHT + 8
  })
  return out
}

function lineBody(chart: LineChart): string[] {
  const xs = xAxis(chart.series.flatMap((s) => s.points.map((p) => p.x)))
  const ys = valueAxis(chart.series.flatMap((s) => s.points.map((p) => p.y)))
  const xTicks = xs.ticks.map((tick) => {
    const x = place(tick, xs, PLOT.left, PLOT.right)
    return `<line x1="${x}" y1="${PLOT.bottom}" x2="${x}" y2="${PLOT.bottom + 5}" stroke="#374151"/>${text(x, PLOT.bottom + 20, formatNumber(tick), 'text-anchor="middle"')}`
  })
  const out = frame(chart, ys, xTicks)
  chart.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]
    const points = [...s.points].sort((a, b) => a.x - b.x)
    const at = points.map((p) => [
      place(p.x, xs, PLOT.left, PLOT.right),
      place(p.y, ys, PLOT.bottom, PLOT.top),
    ])
    out.push(
      `<polyline points="${at.map(([x, y]) => `${x},${y}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`,
    )
    points.forEach((p, j) => {
      const [x, y] = at[j]!
      out.push(
        `<circle cx="${x}" cy="${y}" r="3.5" fill="${color}"><title>${escapeXml(`${s.name}: ${formatNumber(p.x)} → ${formatNumber(p.y)}`)}</title></circle>`,
      )
    })
  })
  return out
}

function barBody(chart: BarChart): string[] {
  const ys = valueAxis(chart.series.flatMap((s) => s.values.filter((v): v is number => v !== null)))
  const slot = (PLOT.right - PLOT.left) / chart.categories.length
  const barWidth = round((slot * 0.8) / chart.series.length)
  // A label wraps to its slot's width (about 6.5 px a character), on three lines at most: the table has it whole.
  const chars = Math.max(4, Math.floor(slot / 6.5))
  const xTicks = chart.categories.map((category, i) => {
    const lines = wrap(category, chars)
    const shown = lines.length > 3 ? [...lines.slice(0, 2), `${lines[2]!.slice(0, chars - 1)}…`] : lines
    return wrappedText(round(PLOT.left + slot * (i + 0.5)), PLOT.bottom + 16, shown, 'text-anchor="middle"')
  })
  const out = frame(chart, ys, xTicks)
  const zero = place(Math.max(ys.min, 0), ys, PLOT.bottom, PLOT.top)
  chart.series.forEach((s, i) => {
    s.values.forEach((value, j) => {
      if (value === null) return
      const x = round(PLOT.left + slot * j + slot * 0.1 + barWidth * i)
      const y = place(value, ys, PLOT.bottom, PLOT.top)
      const top = Math.min(y, zero)
      out.push(
        `<rect x="${x}" y="${top}" width="${barWidth}" height="${round(Math.abs(zero - y))}" fill="${COLORS[i % COLORS.length]}"><title>${escapeXml(`${s.name}, ${chart.categories[j]}: ${formatNumber(value)}`)}</title></rect>`,
        text(round(x + barWidth / 2), top - 4, formatNumber(value), 'text-anchor="middle" font-size="10"'),
      )
    })
  })
  return out
}

/** The chart as a standalone SVG document. */
export function svgChart(chart: Chart): string {
  const body = chart.kind === 'line' ? lineBody(chart) : barBody(chart)
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12" fill="#111827" role="img">`,
    `  <title>${escapeXml(chart.title)}</title>`,
    ...body.map((line) => `  ${line}`),
    '</svg>',
    '',
  ].join('\n')
}
