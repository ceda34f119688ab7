/** What every benchmark returns: rows for the printed table and named figures for the JSON. */
export interface BenchReport {
  name: string
  /** One object per table row; keys are column names. */
  rows: Record<string, string | number>[]
  /** Headline figures, e.g. { ready_ms: 812 }. */
  figures: Record<string, number>
  /** What was measured and how, one line. */
  note: string
}

/** A benchmark module's default export. */
export type Benchmark = () => Promise<BenchReport>
