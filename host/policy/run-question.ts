/**
 * The one question the policies answer about a run, asked alike of a task of the scheduling round and
 * of a request routed straight to its runner: may this agent claim, be assigned or run it. As Cedar
 * sees it: principal `Agent::"<key>"` with what it offers (its claim snapshot), resource
 * `Task::"<id>"` with the run's kind, requester and requirements (the name published policies use for
 * either), and the context. Also the flat summary of it that a Decision entry keeps.
 */
import {
  type ClaimSnapshot,
  type Decision,
  type EntryRecord,
  fitText,
  LIMITS,
  type Requirements,
  type Task,
} from '../../zomes-bindings/index.ts'
import type { CedarEntity, CedarValue, PolicyAction, PolicyRequest } from './cedar-engine.ts'

/** What the policies read of a run. */
export interface RunQuestion {
  /** The task's action hash, or the direct request's hash (what its record is found by). */
  id: string
  /** Who asked for it: the task's author, the direct request's requester. */
  requester: string
  kind: string
  requirements: Requirements
  input_bytes: number
  /**
   * How the run is bounded: a task's own lease, attempts and fan-out; a direct request runs once, for
   * one answer, within its runner's run limit.
   */
  lease_ms: number
  max_attempts: number
  fan_out: number
}

/** A task's question. */
export function taskQuestion({ action_hash, author, entry }: EntryRecord<Task>): RunQuestion {
  const { kind, requirements, input_bytes, lease_ms, max_attempts, fan_out } = entry
  return {
    id: action_hash,
    requester: author,
    kind,
    requirements,
    input_bytes,
    lease_ms,
    max_attempts,
    fan_out,
  }
}

export interface DecisionInput {
  action: PolicyAction
  /** The agent the decision is about (HoloHashB64). */
  subject: string
  /** What the subject offers; null when not known here. */
  snapshot: ClaimSnapshot | null
  run: RunQuestion
  /** The agent deciding (this host). */
  decidedBy: string
  /**
   * More context, read only when a policy is to be evaluated: a runner's slots and the requester's
   * recent usage (issue 47), which policies test with `context has ...`.
   */
  context?: () => Record<string, CedarValue>
  /**
   * Where the decision may go on record: `public` (the default), a Decision entry every peer holds;
   * `local` for a request routed straight to its runner, whose requester and runner no one else may
   * pair (issue 55, point 6): a denial is said in this peer's own log only (policy-service.ts).
   */
  trail?: 'public' | 'local'
}

export function runPolicyRequest(input: DecisionInput): PolicyRequest {
  const { run, snapshot } = input
  const r = run.requirements
  const agent: CedarEntity = {
    uid: { type: 'Agent', id: input.subject },
    attrs: snapshot ? { ...snapshot } : {},
    parents: [],
  }
  const resource: CedarEntity = {
    uid: { type: 'Task', id: run.id },
    attrs: {
      kind: run.kind,
      author: { __entity: { type: 'Agent', id: run.requester } },
      min_ram_bytes: r.min_ram_bytes,
      min_vram_bytes: r.min_vram_bytes,
      gpu: r.gpu,
      min_cores: r.min_cores,
      // Cedar has no null: no model required is the empty name.
      model: r.model ?? '',
      tags: r.tags,
      input_bytes: run.input_bytes,
      max_attempts: run.max_attempts,
      lease_ms: run.lease_ms,
      fan_out: run.fan_out,
    },
    parents: [],
  }
  const author: CedarEntity = { uid: { type: 'Agent', id: run.requester }, attrs: {}, parents: [] }
  return {
    principal: input.subject,
    action: input.action,
    resource: { type: 'Task', id: run.id },
    entities: input.subject === run.requester ? [agent, resource] : [agent, resource, author],
    context: { ...input.context?.(), requester: run.requester, decided_by: input.decidedBy },
  }
}

const clip = (s: string) => fitText(s, LIMITS.decision.context_value.max)

/** The question in a few flat keys, for the Decision's `context`. */
export function decisionContext(input: DecisionInput): Decision['context'] {
  const { run } = input
  const r = run.requirements
  return {
    kind: run.kind,
    requester: run.requester,
    decided_by: input.decidedBy,
    min_ram_bytes: r.min_ram_bytes,
    min_vram_bytes: r.min_vram_bytes,
    gpu: r.gpu,
    min_cores: r.min_cores,
    model: r.model,
    tags: clip(r.tags.join(',')),
  }
}
