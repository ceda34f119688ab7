/**
 * The recorded bench runs' page and plots (docs/benchmarks/) are generated from docs/benchmarks/data/:
 * each committed file must be what `npm run bench:docs` makes of the data now. The chart function's
 * axes and positions are table-tested.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { readBenchData } from '../../../scripts/bench-docs/bench-data.ts'
import { plotsOf, splitPairs, unitOf } from '../../../scripts/bench-docs/plots.ts'
import { benchDocsFiles, PLOTS_DIR } from '../../../scripts/bench-docs/runs-page.ts'
import { PLOT, place, svgChart, valueAxis, wrap, xAxis } from '../../../scripts/bench-docs/svg-chart.ts'

const runs = readBenchData()
const files = benchDocsFiles(runs)

describe('recorded bench runs in the docs', () => {
  it.each([...files.keys()])('%s is what the data makes', (path) => {
    expect(
      readFileSync(path, 'utf8') === files.get(path),
      `${path} is stale: run \`npm run bench:docs\``,
    ).toBe(true)
  })

  it('leave no plot that no run makes', () => {
    const made = new Set([...files.keys()])
    expect(readdirSync(PLOTS_DIR).filter((f) => !made.has(`${PLOTS_DIR}/${f}`))).toEqual([])
  })

  it('show the machine under each run and link every plot', () => {
    const page = files.get('docs/benchmarks/runs.md')!
    expect(page.match(/^## /gm)?.length).toBe(runs.size)
    expect(page.match(/^\*\*Machine\*\*: .*\d+ cores, \d+ GiB/gm)?.length).toBe(runs.size)
    for (const path of files.keys()) {
      if (path.endsWith('.svg')) expect(page).toContain(`(./plots/${path.slice(PLOTS_DIR.length + 1)})`)
    }
  })

  it('plot per-peer cost against the mesh size for mesh-scale', () => {
    const [, run] = [...runs].find(([file]) => file.startsWith('mesh-scale'))!
    const cpu = plotsOf(run.report).find((p) => p.id === 'cpu-ms-per-request-less-idle')!.chart
    expect(cpu.kind).toBe('line')
    if (cpu.kind !== 'line') return
    expect(cpu.series.map((s) => s.name)).toEqual(['runner', 'requester', 'bystander (median)'])
    expect(cpu.series[2]!.points.map((p) => p.x)).toEqual([3, 6, 12])
  })
})

describe('valueAxis', () => {
  it.each([
    { values: [0.12, 6.71], min: 0, max: 8, ticks: [0, 2, 4, 6, 8] },
    { values: [20, 1208], min: 0, max: 1250, ticks: [0, 250, 500, 750, 1000, 1250] },
    { values: [0.3, 0.7], min: 0, max: 0.8, ticks: [0, 0.2, 0.4, 0.6, 0.8] },
    { values: [-3, 4], min: -4, max: 4, ticks: [-4, -2, 0, 2, 4] },
    { values: [0, 0], min: 0, max: 1, ticks: [0, 1] },
    { values: [190.5, 0.012], min: 0, max: 200, ticks: [0, 50, 100, 150, 200] },
  ])('$values: from $min to $max', ({ values, min, max, ticks }) => {
    expect(valueAxis(values)).toEqual({ min, max, ticks })
  })
})

describe('xAxis', () => {
  it.each([
    { xs: [12, 3, 6, 3], axis: { min: 3, max: 12, ticks: [3, 6, 12] } },
    { xs: [5], axis: { min: 4, max: 6, ticks: [5] } },
  ])('$xs', ({ xs, axis }) => {
    expect(xAxis(xs)).toEqual(axis)
  })
})

describe('svgChart', () => {
  const chart = {
    kind: 'line' as const,
    title: 'CPU <per> request',
    xLabel: 'peers',
    yLabel: 'ms',
    series: [
      {
        name: 'runner',
        points: [
          { x: 12, y: 2 },
          { x: 3, y: 8 },
          { x: 6, y: 4 },
        ],
      },
    ],
  }
  const svg = svgChart(chart)
  const circle = (label: string) => {
    const found = new RegExp(`<circle cx="([\\d.]+)" cy="([\\d.]+)"[^>]*><title>${label}</title>`).exec(svg)
    return found ? [Number(found[1]), Number(found[2])] : null
  }

  it.each([
    // y axis 0..8: y 8 is the plot's top, 0 its bottom; x axis 3..12 spans left to right.
    { label: 'runner: 3 → 8', at: [PLOT.left, PLOT.top] },
    { label: 'runner: 12 → 2', at: [PLOT.right, PLOT.bottom - (PLOT.bottom - PLOT.top) / 4] },
    { label: 'runner: 6 → 4', at: [PLOT.left + (PLOT.right - PLOT.left) / 3, (PLOT.top + PLOT.bottom) / 2] },
  ])('puts $label at $at', ({ label, at }) => {
    expect(circle(label)).toEqual(at)
  })

  it('draws the line through the points in x order, labels the axes and escapes text', () => {
    expect(svg).toContain(
      `points="${PLOT.left},${PLOT.top} ${place(6, xAxis([3, 6, 12]), PLOT.left, PLOT.right)},${(PLOT.top + PLOT.bottom) / 2}`,
    )
    expect(svg).toContain('>CPU &lt;per&gt; request</text>')
    expect(svg).toContain('>peers</text>')
    for (const tick of ['0', '2', '4', '6', '8'])
      expect(svg).toMatch(new RegExp(`text-anchor="end">${tick}</text>`))
  })

  it('draws a bar from zero to its value and skips a missing one', () => {
    const bars = svgChart({
      kind: 'bar',
      title: 't',
      xLabel: 'read',
      yLabel: 'ms',
      categories: ['a', 'b'],
      series: [{ name: 'scan', values: [10, null] }],
    })
    const rects = [
      ...bars.matchAll(
        /<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)" fill="#2563eb"><title>/g,
      ),
    ]
    expect(rects.map((r) => [Number(r[1]), Number(r[2])])).toEqual([[PLOT.top, PLOT.bottom - PLOT.top]])
  })
})

describe('wrap', () => {
  it.each([
    {
      text: 'cedar isAuthorized, text each time',
      chars: 26,
      lines: ['cedar isAuthorized, text', 'each time'],
    },
    { text: 'runner', chars: 3, lines: ['runner'] },
  ])('$text', ({ text, chars, lines }) => {
    expect(wrap(text, chars)).toEqual(lines)
  })
})

describe('unitOf', () => {
  it.each([
    { column: 'index (ms)', found: { unit: 'ms', name: 'index' } },
    { column: 'p95_us', found: { unit: 'µs', name: 'p95' } },
    { column: 'overhead p50 ms', found: { unit: 'ms', name: 'overhead p50' } },
    { column: 'ripple / cedar', found: null },
    { column: 'genesis_walks', found: null },
  ])('$column', ({ column, found }) => {
    expect(unitOf(column)).toEqual(found)
  })
})

describe('splitPairs', () => {
  it('makes two numeric columns of a pair and keeps the rest', () => {
    expect(
      splitPairs({ call: 'read', 'direct p50 / p95 ms': '0.451 / 20.028', 'overhead p50 ms': -3.7 }),
    ).toEqual({
      call: 'read',
      'direct p50 ms': 0.451,
      'direct p95 ms': 20.028,
      'overhead p50 ms': -3.7,
    })
  })
})
