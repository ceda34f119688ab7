/**
 * An op seen by another agent: agent A advertises a new capability, and B polls until its reads show
 * it (`get_capability` of A's key or `list_nodes`, whichever shows it first). Each write is timed from
 * A's call returning to the poll that saw it returning. The first write is kept apart: it is where B
 * first syncs with A (on real conductors, peer discovery and the first gossip round).
 */
import type { ConductorPort } from '../../host/interface/conductor-port.ts'
import { capability } from '../../tests/unit/conductor/fixtures/capability.ts'
import { sleep } from '../measure.ts'

export interface OpSeenInit {
  writes: number
  pollMs: number
  firstTimeoutMs: number
  timeoutMs: number
}

export interface OpSeen {
  /** Null when B did not see the first write within firstTimeoutMs. */
  firstMs: number | null
  /** The writes after the first that B saw. */
  laterMs: number[]
  /** Writes B did not see in time. */
  missed: number
}

/** Whether B's reads show A's capability named `name`. */
async function shows(reader: ConductorPort, author: string, name: string): Promise<boolean> {
  const [one, all] = await Promise.all([
    reader.callZome('agent_registry', 'get_capability', author),
    reader.callZome('agent_registry', 'list_nodes', null),
  ])
  return one?.entry.name === name || all.some((r) => r.entry.name === name)
}

/** Ms from the write returning to B seeing it; null past `timeoutMs`. */
async function timeOne(
  writer: ConductorPort,
  reader: ConductorPort,
  name: string,
  init: OpSeenInit,
  timeoutMs: number,
): Promise<number | null> {
  await writer.callZome('agent_registry', 'advertise_capability', capability({ name }))
  const t0 = performance.now()
  while (performance.now() - t0 < timeoutMs) {
    if (await shows(reader, writer.agentPubKey, name)) return performance.now() - t0
    await sleep(init.pollMs)
  }
  return null
}

export async function timeOpSeen(
  writer: ConductorPort,
  reader: ConductorPort,
  init: OpSeenInit,
): Promise<OpSeen> {
  const firstMs = await timeOne(writer, reader, 'seen-0', init, init.firstTimeoutMs)
  const laterMs: number[] = []
  let missed = firstMs === null ? 1 : 0
  for (let k = 1; k < init.writes; k++) {
    const ms = await timeOne(writer, reader, `seen-${k}`, init, init.timeoutMs)
    if (ms === null) missed++
    else laterMs.push(ms)
  }
  return { firstMs, laterMs, missed }
}
