/**
 * Usage from the record (issue 47, point 1): a requester and a runner of a private mesh, each with its
 * ledger watching its own conductor, total what was served from the leaves they sign; the totals equal
 * the leaves each holds on its own chain (read back with get_served), member by member, and so do
 * the totals rebuilt from each chain at a restart with no usage.json, and what the runner tells the
 * requester over usage/1.0.0.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { waitForAction } from '../../host/conductor/embedded/replication/wait-for-action.ts'
import { encodeHashB64 } from '../../host/identity/hash.ts'
import { openAgentKey } from '../../host/identity/keystore.ts'
import type { KnownPeer } from '../../host/interface/live-peers.ts'
import { OWN_STATEMENT } from '../../host/interface/release.ts'
import { silentLogger } from '../../host/log/logger.ts'
import { createInvite, membraneProofOf } from '../../host/membership/invite.ts'
import { privateMeshOf } from '../../host/membership/private-mesh.ts'
import { libp2pAgentPort } from '../../host/node/agent-port.ts'
import { NO_POLICY_VERDICT } from '../../host/policy/cedar-engine.ts'
import { DirectService } from '../../host/requests/direct/direct-service.ts'
import type { RoutePlanInput } from '../../host/requests/direct/route-plan.ts'
import { MeshUsage } from '../../host/usage/mesh-usage.ts'
import { keepUsage } from '../../host/usage/usage-file.ts'
import { UsageLedger } from '../../host/usage/usage-ledger.ts'
import type { Worker } from '../../host/workers/worker.ts'
import { type Player, runScenario, scenarioNetwork } from './harness.ts'

const MODEL = 'tiny'
const FILE = 'a'.repeat(64)

/** Answers each prompt echoed, with token counts that differ from prompt to prompt. */
const echo: Worker = {
  kind: 'infer.generate',
  input: z.object({ model: z.string(), prompt: z.string() }),
  output: z.object({ text: z.string() }),
  run: async (input: { prompt: string }) => ({
    output: { text: `echo: ${input.prompt}` },
    metrics: { tokens_in: input.prompt.length, tokens_out: input.prompt.length % 7, model_file_hash: FILE },
  }),
}

function service(player: Player, ledger: UsageLedger, runner: Player | null, worker: Worker | null) {
  return new DirectService({
    conductor: ledger.watch(player.port),
    workers: { get: (kind) => (worker !== null && kind === worker.kind ? worker : undefined) },
    policies: { decide: async () => NO_POLICY_VERDICT },
    slotsOf: () => ({ slots: 64, busy: 0 }),
    agents: libp2pAgentPort(player.node),
    peers: async () =>
      runner === null
        ? []
        : [
            {
              agent: runner.agentPubKey,
              self: false,
              status: 'online',
              capability: {
                inference: { models: [{ name: MODEL, loaded: true, file_hash: FILE, size_bytes: 1 }] },
                tags: [],
              },
              load: { slots_free: 64 },
            } as unknown as RoutePlanInput['peers'][number],
          ],
    waitForAction: (hash, timeoutMs) =>
      waitForAction({ store: player.conductor.store, replication: player.replication }, hash, timeoutMs),
    batchMaxLeaves: 16,
    logger: silentLogger(),
  })
}

describe('usage from the record', { timeout: 120_000 }, () => {
  it('each party’s totals equal the leaves it signed', async () => {
    await runScenario(async (scenario) => {
      const adminDir = await mkdtemp(join(tmpdir(), 'ripple-usage-admin-'))
      const admin = await openAgentKey(adminDir)
      const network = privateMeshOf(scenarioNetwork(), encodeHashB64(admin.agentPubKey))
      const alice = await scenario.addPlayer({ network, dataDir: adminDir })
      const invite = createInvite({ network, role: 'member', expiresInMs: 3_600_000, uses: 1 }, admin)
      const bob = await scenario.addPlayer({ network, membraneProof: membraneProofOf(invite) })
      await scenario.shareAllAgents()
      const [asks, runs] = [new UsageLedger(), new UsageLedger()]
      const asker = service(alice, asks, bob, null)
      const runner = service(bob, runs, null, echo)
      await runner.start()
      const prompts = Array.from({ length: 40 }, (_, i) => `prompt ${'x'.repeat(i)}`)
      const answers = await Promise.all(
        prompts.map((prompt, i) => {
          const answer = asker.inference.run({
            kind: 'infer.generate',
            model: MODEL,
            input: { prompt },
            signal: AbortSignal.timeout(60_000),
          })
          // What /v1 notes of an answer: the key that asked it (every other one here), its reasoning.
          void answer.then((a) => asks.note(a.request, { key: i % 2 ? 'k1' : null, reasoning: i }))
          return answer
        }),
      )
      expect(await Promise.all(answers.map((a) => a.recorded))).not.toContain(null)
      await runner.stop()

      const sum = { in: 0, out: 0, busy: 0 }
      for (const answer of answers) {
        const mine = await alice.port.callZome('resource_mesh', 'get_served', answer.request)
        const theirs = await bob.port.callZome('resource_mesh', 'get_served', answer.request)
        const leaf = theirs!.answered!.proof.leaf
        expect(mine!.served!.leaf.proof!.leaf).toEqual(leaf)
        sum.in += leaf.tokens_in
        sum.out += leaf.tokens_out
        sum.busy += (leaf.finished_at - leaf.started_at) / 1e6
      }
      const total = (ledger: UsageLedger) =>
        ledger.rows().reduce(
          (t, r) => ({
            requests: t.requests + r.requests,
            in: t.in + r.tokens_in,
            out: t.out + r.tokens_out,
            busy: t.busy + r.busy_s,
          }),
          { requests: 0, in: 0, out: 0, busy: 0 },
        )
      const signed = { requests: 40, in: sum.in, out: sum.out }
      expect(total(runs)).toMatchObject(signed)
      expect(total(asks)).toMatchObject(signed)
      expect(total(runs).busy).toBeCloseTo(sum.busy, 2)
      // The runner's rows name the requester; the requester's name the runner, and the keys it noted.
      expect(new Set(runs.rows().map((r) => `${r.direction} ${r.member}`))).toEqual(
        new Set([`served ${alice.agentPubKey}`]),
      )
      expect(new Set(asks.rows().map((r) => `${r.direction} ${r.member}`))).toEqual(
        new Set([`used ${bob.agentPubKey}`]),
      )
      expect(
        asks
          .rows()
          .filter((r) => r.key === 'k1')
          .reduce((n, r) => n + r.requests, 0),
      ).toBe(20)
      await asker.stop()

      // A restart with usage.json deleted: the totals rebuilt from each party's own chain are the leaves.
      for (const [player, before] of [
        [alice, asks],
        [bob, runs],
      ] as const) {
        const after = new UsageLedger()
        await keepUsage(
          after,
          player.port,
          join(adminDir, `none-${player.agentPubKey}.json`),
          silentLogger(),
        ).start()
        expect(total(after)).toMatchObject(signed)
        expect(total(after).busy).toBeCloseTo(sum.busy, 2)
        // The same hours, directions and members (the API keys, this peer's notes, are not on the chain).
        const groups = (l: UsageLedger) =>
          new Set(l.rows().map((r) => `${r.direction} ${r.member} ${r.hour}`))
        expect(groups(after)).toEqual(groups(before))
      }

      // Across the mesh: alice asks bob (usage/1.0.0) what he signed about her, over the peers' own streams.
      const known = (p: Player, self: boolean) =>
        ({ agent: p.agentPubKey, self, status: 'online', name: null, release: OWN_STATEMENT }) as KnownPeer
      const meshOf = (p: Player, ledger: UsageLedger) =>
        new MeshUsage({
          self: p.agentPubKey,
          agents: libp2pAgentPort(p.node),
          ledger,
          peers: async () => [known(alice, p === alice), known(bob, p === bob)],
        })
      const bobs = meshOf(bob, runs)
      await bobs.start()
      const view = await meshOf(alice, asks).ask(0)
      expect(view.peers.map((p) => [p.agent, p.message])).toEqual([
        [alice.agentPubKey, null],
        [bob.agentPubKey, null],
      ])
      expect(view.sum.as_runner).toMatchObject({ requests: 40, tokens_in: sum.in, tokens_out: sum.out })
      expect(view.sum.as_requester.requests).toBe(0)
      await bobs.stop()
    })
  })
})
