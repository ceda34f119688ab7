/**
 * The one way every caller (the OpenAI and Anthropic endpoints, MCP, the CLI through the API, memory's
 * embeddings) runs something on the mesh, and the models the mesh serves (./run-request.ts runs them).
 */
import type { RunProgress } from '../interface/run-event.ts'
import type { AgentSession } from './agent-session.ts'
import type { PeerModel } from './peer-models.ts'
import type { Band } from './priority.ts'

export interface InferenceRequest {
  kind: 'infer.generate' | 'infer.embed'
  /** Unnamed: any peer with a model of its own runs it (through the round: only a model can be routed). */
  model?: string
  input: Record<string, unknown>
  fanOut: number
  /** `round` keeps the scheduling round for one answer too; fan-out always takes it. */
  route?: 'direct' | 'round'
  /** Aborted when the client goes away: the task is cancelled. */
  signal: AbortSignal
  /**
   * The run's events (interface/run-event.ts): `submitted` once the task is submitted or the direct
   * request hashed (its hash names it from now on); `waiting` while nobody has claimed the task (a task
   * only); `assigned` when a peer took it (the first one, with fan-out; the one whose answer began, when
   * direct); the running peer's load, reasoning and text (not with fan-out, where the answer is known
   * only at the end). A caller that takes them holds a task to the attempt whose text it was given.
   */
  onEvent?: (event: RunProgress) => void
  /**
   * The caller takes the answer whole (no text as it comes): a direct request's runner may make it
   * whole (fewer frames, its engine's connection kept); the round sends its text still.
   */
  whole?: boolean
  /** The coding agent's session, from its headers (agent-session.ts): a direct request is kept by it. */
  session?: AgentSession | null
  /** Its priority band (priority.ts): a direct request's runner serves the higher band first. */
  priority?: Band
}

export interface InferenceAnswer {
  /** The task's action hash, or the direct request's hash (its Served record is found by it). */
  task: string
  /** The author of the accepted Result (the runner's Answer, when direct). */
  peer: string
  output: unknown
}

export interface RequestsPort {
  /** The models the mesh's peers serve, as the endpoints list them. */
  models(): Promise<PeerModel[]>
  /** Runs the request straight to a runner or through the scheduling round, as its route says. */
  run(request: InferenceRequest): Promise<InferenceAnswer>
}
