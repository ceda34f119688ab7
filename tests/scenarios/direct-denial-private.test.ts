/**
 * A refusal pairs nobody in public (issue 55, point 6). Three members of a private mesh over the real
 * embedded conductor, rules wasm and libp2p on loopback: Carol, the admin, publishes a policy that
 * forbids the model; Alice asks Bob for it, again and again (each an offer, never a prompt: Bob's
 * policy refuses it first). Bob refuses every one, and nothing Carol holds (nor Bob's own chain) says
 * so: no Decision, and no public entry of Bob's naming Alice. Before, each refusal was a Decision every
 * peer stored, naming requester, runner, model and request.
 */
import { describe, expect, it } from 'vitest'
import { decodeAction } from '../../host/conductor/embedded/action.ts'
import { entryTypeName } from '../../host/conductor/embedded/validation/record-rules.ts'
import { decodeMsgpack } from '../../host/identity/canonical.ts'
import { decodeHashB64 } from '../../host/identity/hash.ts'
import { silentLogger } from '../../host/log/logger.ts'
import { PolicyService } from '../../host/policy/policy-service.ts'
import { ask, directService, echo, privateMesh } from './direct-mesh.ts'
import { type Player, runScenario } from './harness.ts'

const DNAS = ['policy_store', 'resource_mesh'] as const

/** What `watcher` holds of `author`'s chains: each action's entry type and its entry, where held. */
function heldOf(watcher: Player, author: Player) {
  const store = watcher.conductor.store
  return DNAS.flatMap((dna) => {
    const cell = watcher.conductor.cell(dna)
    return [...store.chainActions(cell.dnaHash, decodeHashB64(author.agentPubKey, 'agent'))].map((a) => {
      const type = entryTypeName(decodeAction(a.bytes), cell.dna) ?? a.type
      const entry = type !== 'Agent' && a.entryHash ? store.getEntry(a.entryHash) : null
      return { dna, type, entry: entry ? JSON.stringify(decodeMsgpack(entry.bytes)) : null }
    })
  })
}

describe('a runner’s refusal, as the mesh sees it', { timeout: 120_000 }, () => {
  it('a member whose offers a runner’s policy denies is on no public record with that runner', async () => {
    await runScenario(async (scenario) => {
      const [carol, alice, bob] = await privateMesh(scenario, [], 2)
      const admin = new PolicyService({ conductor: carol!.port, cacheMs: 0, logger: silentLogger() })
      await admin.publish({
        id: 'no-tiny',
        text: 'permit(principal, action, resource);\nforbid(principal, action, resource) when { resource.model == "tiny" };',
      })
      await scenario.dhtSync([carol!, alice!, bob!], 'policy_store')
      const bobsPolicies = new PolicyService({ conductor: bob!.port, cacheMs: 0, logger: silentLogger() })
      const runner = directService(bob!, null, echo, undefined, undefined, bobsPolicies)
      const asker = directService(alice!, bob!, null)
      await runner.start()
      await asker.start()
      for (let i = 0; i < 5; i++) {
        const refused = await ask(asker, `offer ${i}`).catch((err: unknown) => err)
        expect(refused).toMatchObject({
          reasons: [
            { agent: bob!.agentPubKey, why: 'busy/limited', message: expect.stringMatching(/no-tiny/) },
          ],
        })
      }
      await asker.stop()
      await runner.stop()
      for (const dna of DNAS) await scenario.dhtSync([carol!, alice!, bob!], dna)

      const seen = heldOf(carol!, bob!)
      // Carol holds Bob's chains (his genesis at least), and nothing in them is a decision or names Alice.
      expect(seen.length).toBeGreaterThan(0)
      expect(seen.filter((w) => w.type === 'Decision')).toEqual([])
      expect(seen.filter((w) => w.entry?.includes(alice!.agentPubKey))).toEqual([])
      // Bob wrote none either: his own chain holds no Decision.
      expect(heldOf(bob!, bob!).filter((w) => w.type === 'Decision')).toEqual([])
      expect(
        await carol!.port.callZome('policy_store', 'list_decisions', {
          subject: null,
          resource: null,
          limit: 100,
        }),
      ).toEqual([])
    })
  })
})
