/**
 * Why running something on the mesh did not give an answer, said in the failure words every edge
 * answers from (interface/failure-kind.ts): each edge (the OpenAI and Anthropic endpoints, memory,
 * MCP) maps the kind to its own errors. A run's outcomes:
 * - `not_found`: no peer of the mesh has the model;
 * - `invalid`: the input is not one the worker takes, or the caller's mistake a runner found (`field`
 *   names what);
 * - `busy`: every peer that could run it is busy: try again shortly;
 * - `busy/limited`: every peer that could run it refused it by its policies (a limit), or was busy:
 *   try again after `retryAfterS`;
 * - `unavailable`: no peer could run it now (none took it, none could be reached, each refused);
 * - `unavailable/no_room`: each peer with the model lacks the memory for it now (what holds it is busy);
 * - `failed/upstream`: peers ran it and failed, or the runner stopped after its answer began (a
 *   peer's failure, not this daemon's).
 */
import type { Failure } from '../interface/failure-kind.ts'

export class RunError extends Error {
  /** The name error bodies carry: clients see it, so it stays as it was before the class's rename. */
  static override readonly name = 'MeshRunError'
  constructor(
    readonly failureKind: Failure,
    /** A short code for it (`peers_busy`, `task_failed`, `runner_lost`, ...). */
    readonly code: string,
    message: string,
    readonly field: string | null = null,
    /** When to try again, in seconds (a `busy/limited` one: the `retry-after` its 429 carries). */
    readonly retryAfterS: number | null = null,
  ) {
    super(message)
    this.name = 'MeshRunError'
  }

  get details() {
    return { failure: this.failureKind, code: this.code, field: this.field }
  }
}

/**
 * What a runner found wrong with the request itself once it tried it (a prompt over the model's
 * context, a JSON schema the engine cannot compile): answered 400 with `code` and the input field at
 * fault, not as a peer that could not run it.
 */
export interface CallerMistake {
  code: string
  field: string | null
}

const CONTEXT_LENGTH_EXCEEDED = 'context_length_exceeded'

/** Every runner would find it, but a prompt over one runner's context: another, with a larger one, may take it. */
export function mistakeAnywhere(code: string): boolean {
  return code !== CONTEXT_LENGTH_EXCEEDED
}

/**
 * The caller's mistake `err` says, or null when it is the runner's own failure. Errors are recognised
 * by name (they come from the engine's layer, maybe from another copy of its modules).
 */
export function callerMistake(err: unknown, input: Record<string, unknown>): CallerMistake | null {
  const e = err as { name?: unknown; status?: unknown; kind?: unknown }
  switch (e?.name) {
    case 'ContextOverflowError':
      return {
        code: CONTEXT_LENGTH_EXCEEDED,
        field: ['messages', 'prompt', 'input'].find((f) => f in input) ?? null,
      }
    case 'InvalidGrammarError':
      return { code: 'invalid_value', field: typeof e.kind === 'string' ? e.kind : null }
    case 'InvalidMessagesError':
      return { code: 'invalid_value', field: 'messages' }
    // Whatever else the engine answered 400 to is in the request too.
    case 'EngineRequestError':
      return e.status === 400 ? { code: 'invalid_request', field: null } : null
  }
  return null
}
