/** The usage page's chart data: tokens per hour, served to others and served by others. Pure. */
import type { UsageRowView } from '../../host/api/contract/index.ts'

export interface HourBar {
  hour: string
  served: number
  used: number
}

export function hourlyTokens(rows: readonly UsageRowView[]): HourBar[] {
  const bars = new Map<string, HourBar>()
  for (const r of rows) {
    const bar = bars.get(r.hour) ?? { hour: r.hour, served: 0, used: 0 }
    bar[r.direction] += r.tokens_in + r.tokens_out
    bars.set(r.hour, bar)
  }
  return [...bars.values()].sort((a, b) => a.hour.localeCompare(b.hour))
}
