/**
 * libp2p's component logger when nobody asked for its debug output (no DEBUG in the environment): one
 * shared logger that writes nothing. libp2p's default makes three `debug` instances for every logger
 * it asks for, and it asks for some at every connection and stream: a direct request opens a stream,
 * and those instances were about 3% of a requester's CPU. With DEBUG set, libp2p keeps its own.
 */
import type { ComponentLogger, Logger } from '@libp2p/interface'

const silent: Logger = Object.assign(() => {}, {
  error: () => {},
  trace: () => {},
  enabled: false,
  newScope: () => silent,
})

const QUIET: ComponentLogger = { forComponent: () => silent }

/** The logger to give libp2p: undefined (its own) when DEBUG names anything. */
export function libp2pLogger(env: NodeJS.ProcessEnv = process.env): ComponentLogger | undefined {
  return env.DEBUG ? undefined : QUIET
}
