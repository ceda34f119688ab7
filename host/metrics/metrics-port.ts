/**
 * What the rest of the node tells the metrics, and what the API serves of them: the counts the
 * metrics cannot read from their sources (a task submitted here ended, an answer served straight,
 * an API request), and the Prometheus text.
 */
import type { Registry } from 'prom-client'
import type { TaskState } from '../../zomes-bindings/index.ts'
import type { DirectStats } from '../requests/direct/direct-inference.ts'

export interface MetricsPort {
  /** The registry the text is read from, for its content type. */
  readonly registry: Pick<Registry, 'contentType'>
  /** A task submitted here ended: its latency, claims and tokens. */
  taskEnded(state: TaskState, endedAtMs?: number): void
  /** Counts the requests routed straight to a runner from here (the direct route, built after the metrics). */
  followDirect(stats: () => DirectStats): void
  /** A request routed straight to its runner was answered: its tokens. */
  answerServed(tokensOut: number | null, tokensPerSecond: number | null): void
  request(route: string, method: string, status: number): void
  /** The Prometheus text exposition. */
  text(): Promise<string>
}
