/**
 * What the scenarios of the direct route share: a private mesh as a user gets it (an admin, two machines
 * joined by one invite), a stand-in worker that echoes its prompt, and a peer's DirectService over its
 * real conductor, libp2p node and replication (its runner's batches carried beside its proofs).
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { embeddedOpCarrier } from '../../host/conductor/embedded/replication/index.ts'
import { waitForAction } from '../../host/conductor/embedded/replication/wait-for-action.ts'
import { encodeHashB64 } from '../../host/identity/hash.ts'
import { openAgentKey } from '../../host/identity/keystore.ts'
import { OWN_STATEMENT, type ReleaseStatement, UNSTATED } from '../../host/interface/release.ts'
import { silentLogger } from '../../host/log/logger.ts'
import { createInvite, membraneProofOf } from '../../host/membership/invite.ts'
import { privateMeshOf } from '../../host/membership/private-mesh.ts'
import { libp2pAgentPort } from '../../host/node/agent-port.ts'
import { NO_POLICY_VERDICT } from '../../host/policy/cedar-engine.ts'
import { DirectService, type DirectServiceInit } from '../../host/requests/direct/direct-service.ts'
import { DIRECT_PROTOCOL_V1, DIRECT_PROTOCOL_V2 } from '../../host/requests/direct/direct-wire.ts'
import type { RoutePlanInput } from '../../host/requests/direct/route-plan.ts'
import type { Worker } from '../../host/workers/worker.ts'
import { type Player, type PlayerOptions, type Scenario, scenarioNetwork } from './harness.ts'

/** Peers of a private mesh: its admin, and machines joined with one invite for them all (two by default). */
export async function privateMesh(
  scenario: Scenario,
  options: PlayerOptions[] = [],
  joiners = 2,
): Promise<Player[]> {
  const adminDir = await mkdtemp(join(tmpdir(), 'ripple-scenario-admin-'))
  const admin = await openAgentKey(adminDir)
  const network = privateMeshOf(scenarioNetwork(), encodeHashB64(admin.agentPubKey))
  const first = await scenario.addPlayer({ ...options[0], network, dataDir: adminDir })
  const invite = createInvite({ network, role: 'member', expiresInMs: 3_600_000, uses: joiners }, admin)
  const joined: Player[] = []
  for (let i = 1; i <= joiners; i++)
    joined.push(await scenario.addPlayer({ ...options[i], network, membraneProof: membraneProofOf(invite) }))
  await scenario.shareAllAgents()
  return [first, ...joined]
}

export const MODEL = 'tiny'
export const FILE = 'a'.repeat(64)

/** A stand-in for the engine: answers each prompt with itself, echoed. */
export const echo: Worker = {
  kind: 'infer.generate',
  input: z.object({ model: z.string(), prompt: z.string() }),
  output: z.object({ text: z.string() }),
  run: async (input: { prompt: string }) => ({
    output: { text: `echo: ${input.prompt}` },
    metrics: { tokens_in: 3, tokens_out: 2, model_file_hash: FILE },
  }),
}

/** What the requester knows of the runner: the model loaded, its slots free. */
function runnerEntry(agent: string): RoutePlanInput['peers'][number] {
  return {
    agent,
    self: false,
    status: 'online',
    capability: {
      inference: { models: [{ name: MODEL, loaded: true, file_hash: FILE, size_bytes: 1 }] },
      tags: [],
    },
    load: { slots_free: 512 },
  } as unknown as RoutePlanInput['peers'][number]
}

export function directService(
  player: Player,
  runner: Player | (() => Player) | null,
  worker: Worker | null,
  recordWaitMs?: number,
  coverSlotMs?: number,
  /** The runner's policies (default: none published, every request allowed). */
  policies: DirectServiceInit['policies'] = { decide: async () => NO_POLICY_VERDICT },
): DirectService {
  const runnerNow = typeof runner === 'function' ? runner : () => runner
  return new DirectService({
    conductor: player.port,
    workers: { get: (kind) => (worker !== null && kind === worker.kind ? worker : undefined) },
    policies,
    slotsOf: () => ({ slots: 512, busy: 0 }),
    agents: libp2pAgentPort(player.node),
    versions: { of: (agent) => statedBy(runnerNow(), agent) },
    peers: async () => {
      const now = runnerNow()
      return now ? [runnerEntry(now.agentPubKey)] : []
    },
    recordWaitMs,
    coverSlotMs,
    waitForAction: (hash, timeoutMs) =>
      waitForAction({ store: player.conductor.store, replication: player.replication }, hash, timeoutMs),
    carrier: embeddedOpCarrier(player.conductor, player.replication),
    batchMaxLeaves: 64,
    logger: silentLogger(),
  })
}

/**
 * The runner's hello as the requester heard it: this release's, but for a hand-written runner that
 * serves version 1 of the direct protocol alone, which stands for a runner of release 0.1.0 (its hello
 * would say so); undefined for any other agent (never met).
 */
function statedBy(runner: Player | null, agent: string): ReleaseStatement | undefined {
  if (runner?.agentPubKey !== agent) return undefined
  const served = runner.node.libp2p.getProtocols()
  const v1Only =
    !served.some((p) => p.endsWith(DIRECT_PROTOCOL_V2)) && served.some((p) => p.endsWith(DIRECT_PROTOCOL_V1))
  return v1Only ? UNSTATED : OWN_STATEMENT
}

export const ask = (service: DirectService, prompt: string) =>
  service.inference.run({
    kind: 'infer.generate',
    model: MODEL,
    input: { prompt },
    signal: AbortSignal.timeout(60_000),
  })
