/**
 * A task decision as Cedar sees it: principal `Agent::"<key>"` with what it offers (its claim
 * snapshot), resource `Task::"<action hash>"` with the task's kind, author and requirements, and the
 * context. Also the flat summary of it that a Decision entry keeps.
 */
import {
  type ClaimSnapshot,
  type Decision,
  type EntryRecord,
  fitText,
  LIMITS,
  type Task,
} from '../../zomes-bindings/index.ts'
import type { CedarEntity, CedarValue, PolicyAction, PolicyRequest } from './cedar-engine.ts'

export interface TaskDecisionInput {
  action: PolicyAction
  /** The agent the decision is about (HoloHashB64). */
  subject: string
  /** What the subject offers; null when not known here. */
  snapshot: ClaimSnapshot | null
  task: EntryRecord<Task>
  /** The agent deciding (this host). */
  decidedBy: string
  /**
   * More context, read only when a policy is to be evaluated: a runner's slots and the requester's
   * recent usage (issue 47), which policies test with `context has ...`.
   */
  context?: () => Record<string, CedarValue>
}

export function taskPolicyRequest(input: TaskDecisionInput): PolicyRequest {
  const { task, snapshot } = input
  const r = task.entry.requirements
  const agent: CedarEntity = {
    uid: { type: 'Agent', id: input.subject },
    attrs: snapshot ? { ...snapshot } : {},
    parents: [],
  }
  const resource: CedarEntity = {
    uid: { type: 'Task', id: task.action_hash },
    attrs: {
      kind: task.entry.kind,
      author: { __entity: { type: 'Agent', id: task.author } },
      min_ram_bytes: r.min_ram_bytes,
      min_vram_bytes: r.min_vram_bytes,
      gpu: r.gpu,
      min_cores: r.min_cores,
      // Cedar has no null: no model required is the empty name.
      model: r.model ?? '',
      tags: r.tags,
      input_bytes: task.entry.input_bytes,
      max_attempts: task.entry.max_attempts,
      lease_ms: task.entry.lease_ms,
      fan_out: task.entry.fan_out,
    },
    parents: [],
  }
  const author: CedarEntity = { uid: { type: 'Agent', id: task.author }, attrs: {}, parents: [] }
  return {
    principal: input.subject,
    action: input.action,
    resource: { type: 'Task', id: task.action_hash },
    entities: input.subject === task.author ? [agent, resource] : [agent, resource, author],
    context: { ...input.context?.(), requester: task.author, decided_by: input.decidedBy },
  }
}

const clip = (s: string) => fitText(s, LIMITS.decision.context_value.max)

/** The request in a few flat keys, for the Decision's `context`. */
export function decisionContext(input: TaskDecisionInput): Decision['context'] {
  const t = input.task.entry
  const r = t.requirements
  return {
    kind: t.kind,
    requester: input.task.author,
    decided_by: input.decidedBy,
    min_ram_bytes: r.min_ram_bytes,
    min_vram_bytes: r.min_vram_bytes,
    gpu: r.gpu,
    min_cores: r.min_cores,
    model: r.model,
    tags: clip(r.tags.join(',')),
  }
}
