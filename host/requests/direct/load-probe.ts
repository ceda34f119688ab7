/**
 * "Your load?": a small request/response between members (design 4e). A runner answers with its
 * capability and its latest heartbeat; a requester that found runners in the model directory asks a
 * few before it picks (runner-pick.ts). An answer that does not come within `PROBE_TIMEOUT_MS` counts
 * as none: a runner gone since it advertised is passed over within the request, not waited on.
 */
import { z } from 'zod'
import { HeartbeatSchema, NodeCapabilitySchema } from '../../../zomes-bindings/index.ts'
import type { AgentPort } from '../../interface/agent-port.ts'
import { decodeWire, encodeWire } from '../../membership/admission-wire.ts'
import type { LoadAnswer } from './runner-pick.ts'

export const LOAD_PROTOCOL = 'load/1.0.0'
/** How long a requester waits for a load answer: a dead runner costs a request no more. */
export const PROBE_TIMEOUT_MS = 1500

const LoadAnswerSchema = z.strictObject({
  capability: NodeCapabilitySchema,
  heartbeat: HeartbeatSchema.nullable(),
})

type Agents = Pick<AgentPort<unknown>, 'answer' | 'request' | 'unhandle'>

/** Answers every member asking this peer's load with `own()`. */
export function answerLoad(agents: Agents, own: () => LoadAnswer): Promise<void> {
  return agents.answer(LOAD_PROTOCOL, async () => encodeWire(own()))
}

export function stopAnsweringLoad(agents: Agents): Promise<void> {
  return agents.unhandle(LOAD_PROTOCOL)
}

/** Asks each of `targets` at once; the answers that came, and who gave none (unreachable, late, malformed). */
export async function askLoads(
  agents: Agents,
  targets: readonly string[],
  signal?: AbortSignal,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<{ answers: Map<string, LoadAnswer>; failed: Set<string> }> {
  const answers = new Map<string, LoadAnswer>()
  const failed = new Set<string>()
  await Promise.all(
    targets.map(async (agent) => {
      const answer = await agents
        .request(agent, LOAD_PROTOCOL, encodeWire({}), { timeoutMs, signal })
        .then((bytes) => decodeWire(LoadAnswerSchema, bytes))
        .catch(() => null)
      if (answer === null) failed.add(agent)
      else answers.set(agent, answer)
    }),
  )
  return { answers, failed }
}
