/**
 * Which charts a recorded run makes. Most benches: their table's numeric columns with a unit in the
 * name ("index (ms)", "p95_us"), one chart per unit, as lines when the first column is a number (policies, peers)
 * and bars otherwise. mesh-scale: each role's cost per request against the mesh's size, from its figures.
 */
import type { RecordedReport } from './bench-data.ts'
import type { Chart, LineSeries } from './svg-chart.ts'

export interface Plot {
  /** Part of the file name, unique within a run. */
  id: string
  chart: Chart
}

const UNIT = /\s*\(([^)]+)\)\s*$/
/** Snake-case figure names end in their unit (mean_us, reopen_ms), some column names too (overhead p50 ms). */
const SUFFIX_UNITS: Record<string, string> = { us: 'µs', ms: 'ms', s: 's', pct: '%', bytes: 'bytes' }

/** A column's unit and its name without it: "index (ms)" and "p95_us" have one; "ripple / cedar" none. */
export function unitOf(column: string): { unit: string; name: string } | null {
  const paren = UNIT.exec(column)
  if (paren) return { unit: paren[1]!, name: column.replace(UNIT, '') }
  const suffix = /^(.+)[_ ]([a-z]+)$/.exec(column)
  const unit = suffix && SUFFIX_UNITS[suffix[2]!]
  return unit ? { unit, name: suffix[1]!.replaceAll('_', ' ') } : null
}

function slug(text: string): string {
  return text
    .replaceAll('µ', 'u')
    .replaceAll('%', 'pct')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
}

type Row = RecordedReport['rows'][number]

/**
 * A column of pairs ("direct p50 / p95 ms": "0.451 / 20.028") as two columns of numbers ("direct p50 ms",
 * "direct p95 ms"); every other cell as it is.
 */
export function splitPairs(row: Row): Row {
  const out: Row = {}
  for (const [column, value] of Object.entries(row)) {
    const names = /^(.*?)(\S+) \/ (\S+) (\S+)$/.exec(column)
    const values = typeof value === 'string' ? /^(-?[\d.]+) \/ (-?[\d.]+)$/.exec(value) : null
    if (names && values) {
      out[`${names[1]}${names[2]} ${names[4]}`] = Number(values[1])
      out[`${names[1]}${names[3]} ${names[4]}`] = Number(values[2])
    } else out[column] = value
  }
  return out
}

function tablePlots(recorded: RecordedReport): Plot[] {
  const report = { ...recorded, rows: recorded.rows.map(splitPairs) }
  const columns = [...new Set(report.rows.flatMap((row) => Object.keys(row)))]
  const [first, ...rest] = columns
  if (first === undefined || report.rows.length === 0) return []
  const byUnit = new Map<string, string[]>()
  for (const column of rest) {
    const unit = unitOf(column)?.unit
    const values = report.rows.map((row) => row[column] ?? 0)
    // A column of zeros (admit-flood's record bytes when nothing is written) says nothing as a chart.
    if (unit === undefined || !values.every((v) => typeof v === 'number') || values.every((v) => v === 0))
      continue
    byUnit.set(unit, [...(byUnit.get(unit) ?? []), column])
  }
  const numericX = report.rows.every((row) => typeof row[first] === 'number')
  // A bar's label: every column of text (admit-flood's "shipped limits / one peer").
  const labels = columns.filter((c) => report.rows.every((row) => typeof row[c] === 'string'))
  const category = (row: Row) => (labels.length > 0 ? labels : [first]).map((c) => String(row[c])).join(' / ')
  return [...byUnit].map(([unit, unitColumns]) => {
    const title = `${report.name} (${unit})`
    const seriesName = (column: string) => unitOf(column)!.name
    const chart: Chart = numericX
      ? {
          kind: 'line',
          title,
          xLabel: first,
          yLabel: unit,
          series: unitColumns.map((column) => ({
            name: seriesName(column),
            points: report.rows
              .filter((row) => typeof row[column] === 'number')
              .map((row) => ({ x: row[first] as number, y: row[column] as number })),
          })),
        }
      : {
          kind: 'bar',
          title,
          xLabel: (labels.length > 0 ? labels : [first]).join(' / '),
          yLabel: unit,
          categories: report.rows.map(category),
          series: unitColumns.map((column) => ({
            name: seriesName(column),
            values: report.rows.map((row) =>
              typeof row[column] === 'number' ? (row[column] as number) : null,
            ),
          })),
        }
    return { id: slug(unit), chart }
  })
}

const MESH_ROLES = [
  ['runner', 'runner', ''],
  ['requester', 'requester', ''],
  ['bystander (median)', 'bystander', '_median'],
] as const

const MESH_FIGURES = [
  ['cpu_ms_per_request_less_idle', 'CPU per request, less idle', 'ms a request'],
  ['warm_cpu_ms_per_request_less_idle', 'Warm: CPU per request, less idle', 'ms a request'],
  ['store_bytes_per_request', 'Store growth per request', 'bytes a request'],
  ['idle_cpu_pct', 'Idle CPU per peer', '% of one core'],
] as const

/** Each peer's cost against the mesh's size: the figures are peers_<n>_<role>_<figure>[_median]. */
function meshScalePlots(report: RecordedReport): Plot[] {
  const sizes = [
    ...new Set(Object.keys(report.figures).flatMap((key) => /^peers_(\d+)_/.exec(key)?.[1] ?? [])),
  ].map(Number)
  return MESH_FIGURES.flatMap(([figure, title, unit]) => {
    const series: LineSeries[] = MESH_ROLES.map(([name, role, suffix]) => ({
      name,
      points: sizes.flatMap((n) => {
        const y = report.figures[`peers_${n}_${role}_${figure}${suffix}`]
        return y === undefined ? [] : [{ x: n, y }]
      }),
    })).filter((s) => s.points.length > 0)
    if (series.length === 0) return []
    return [
      { id: slug(figure), chart: { kind: 'line', title, xLabel: 'peers in the mesh', yLabel: unit, series } },
    ]
  })
}

export function plotsOf(report: RecordedReport): Plot[] {
  return report.name === 'mesh-scale' ? meshScalePlots(report) : tablePlots(report)
}
