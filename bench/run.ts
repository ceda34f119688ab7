/**
 * `npm run bench [name...]`: runs each benchmark in bench/ (or the named ones), prints a table per
 * benchmark and writes its figures as JSON under bench/results/.
 */
import '../host/runtime/node20-polyfills.ts'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Benchmark, BenchReport } from './report.ts'

const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
const RESULTS_DIR = join(BENCH_DIR, 'results')
const NOT_BENCHMARKS = new Set([
  'agent-request.ts',
  'run.ts',
  'report.ts',
  'measure.ts',
  'daemon-api.ts',
  'daemon-store.ts',
  'chat-paths.ts',
  'lab-api.ts',
  'profile-requests.ts',
  'streamed-ask.ts',
])

function printTable(report: BenchReport): void {
  console.log(`\n## ${report.name}\n${report.note}`)
  const columns = [...new Set(report.rows.flatMap((row) => Object.keys(row)))]
  const widths = columns.map((c) => Math.max(c.length, ...report.rows.map((r) => String(r[c] ?? '').length)))
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`
  console.log(line(columns))
  console.log(line(widths.map((w) => '-'.repeat(w))))
  for (const row of report.rows) console.log(line(columns.map((c) => String(row[c] ?? ''))))
}

const wanted = process.argv.slice(2)
const files = (await readdir(BENCH_DIR))
  .filter((f) => f.endsWith('.ts') && !NOT_BENCHMARKS.has(f))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.ts$/, '')))
  .sort()
if (files.length === 0) throw new Error(`no benchmark matches ${wanted.join(', ')}`)

await mkdir(RESULTS_DIR, { recursive: true })
for (const file of files) {
  const { default: run } = (await import(join(BENCH_DIR, file))) as { default: Benchmark }
  const report = await run()
  printTable(report)
  const out = join(RESULTS_DIR, file.replace(/\.ts$/, '.json'))
  await writeFile(out, `${JSON.stringify({ ...report, measured_at: new Date().toISOString() }, null, 2)}\n`)
  console.log(`-> ${out}`)
}
