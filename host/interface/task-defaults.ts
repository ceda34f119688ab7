/**
 * What a task gets where its submitter says nothing, written once: the `/api` contract defaults its
 * body with these, the CLI's help and MCP's schemas say them, and the mesh's own inference tasks use them.
 */
export const TASK_DEFAULTS = {
  /** How long one attempt may run before the task is given to another peer. */
  leaseMs: 60_000,
  /** The deadline, from submission. */
  timeoutMs: 10 * 60_000,
  /** Attempts of each answer (each slot, with fan-out). */
  maxAttempts: 3,
  /** Peers that each answer; above 1 the answers are reduced by agreement. */
  fanOut: 1,
} as const
