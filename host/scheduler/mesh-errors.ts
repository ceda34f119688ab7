/**
 * Why running something on the mesh did not give an answer, as the scheduler says it; each edge (the
 * OpenAI and Anthropic endpoints, memory, MCP) maps the kind to its own errors.
 */
export type MeshRunFailure =
  /** No peer of the mesh has the model. */
  | 'model_not_found'
  /** The input is not one the worker takes (`field` names what). */
  | 'invalid_input'
  /** Every peer that could run it is busy: try again shortly. */
  | 'busy'
  /** No peer could run it now (none took it, none could be reached, each refused). */
  | 'no_capacity'
  /** Peers ran it and failed, or the runner stopped after its answer began. */
  | 'failed'

export class MeshRunError extends Error {
  static override readonly name = 'MeshRunError'
  constructor(
    readonly failure: MeshRunFailure,
    /** A short code for it (`peers_busy`, `task_failed`, `runner_lost`, ...). */
    readonly code: string,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message)
    this.name = 'MeshRunError'
  }
}
