/**
 * A recorded bench run as the docs keep it (docs/benchmarks/data/<file>.json): the report `npm run bench`
 * wrote, the machine it ran on and the commit. A run transcribed from figures the benchmarks page held
 * before runs were recorded says so in `source`, with the machine as the page described it.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'

export const DATA_DIR = 'docs/benchmarks/data'

export const machineSchema = z.object({
  /** CPU model as the OS names it; null where a transcribed run never said. */
  cpu: z.string().nullable(),
  cores: z.number().int().positive(),
  memory_gib: z.number().positive(),
  os: z.string(),
  node: z.string(),
  virtual: z.boolean().nullable(),
  /** The 1-minute load average when the run was recorded: a shared machine's figures are slower. */
  load_average_1m: z.number().nullable(),
})
export type Machine = z.infer<typeof machineSchema>

export const reportSchema = z.object({
  name: z.string().min(1),
  note: z.string(),
  rows: z.array(z.record(z.string(), z.union([z.string(), z.number()]))),
  figures: z.record(z.string(), z.number()),
  measured_at: z.string().optional(),
})
export type RecordedReport = z.infer<typeof reportSchema>

export const benchDataSchema = z.object({
  /** `npm run bench <name>`, or where transcribed figures came from. */
  source: z.string(),
  recorded_at: z.string(),
  /** Short hash of HEAD (null where transcribed figures never named one); `dirty` when the working tree had changes the commit lacks. */
  commit: z.string().nullable(),
  dirty: z.boolean(),
  machine: machineSchema,
  report: reportSchema,
})
export type BenchData = z.infer<typeof benchDataSchema>

/** Every data file, by file name (sorted), each checked against the schema. */
export function readBenchData(dir = DATA_DIR): Map<string, BenchData> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
  return new Map(
    files.map((file) => {
      const parsed = benchDataSchema.safeParse(JSON.parse(readFileSync(join(dir, file), 'utf8')))
      if (!parsed.success) throw new Error(`${join(dir, file)}: ${parsed.error.message}`)
      return [file, parsed.data]
    }),
  )
}
