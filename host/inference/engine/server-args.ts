/** The command line of a model's llama-server, and its HTTP threads. */
import type { ActiveBackend } from './engine-backends.ts'

export interface ServerArgsInit {
  info: { path: string }
  backend: ActiveBackend
  threads: number
  /** Requests served at once (llama-server's slots). */
  slots: number
  /** More llama-server arguments (a split's `--rpc` and `--tensor-split`). */
  extraArgs?: string[]
}

export function serverArgs(init: ServerArgsInit, contextSize: number): string[] {
  return [
    '-m',
    init.info.path,
    '-t',
    String(init.threads),
    '-np',
    String(init.slots),
    // Each slot gets the whole context asked for.
    '-c',
    String(contextSize * init.slots),
    '--threads-http',
    String(httpThreads(init.slots)),
    '--jinja',
    // Split over RPC workers, every layer goes to them (the head's own share is its local worker).
    ...(init.backend.candidate.kind === 'cpu' && !init.extraArgs ? ['-ngl', '0'] : ['-ngl', '999']),
    ...(init.extraArgs ?? []),
  ]
}

/**
 * llama-server's HTTP threads, one per connection, idle keep-alive ones too: room beyond the slots, so
 * a burst of requests never finds the server's accept queue full. The daemon opens no more connections.
 */
export function httpThreads(slots: number): number {
  return slots * 2 + 4
}
