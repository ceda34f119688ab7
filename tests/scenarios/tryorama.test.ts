/**
 * The mesh's scenarios under the real @holochain/tryorama, on real Holochain 0.6.0 conductors with a local
 * kitsune2 bootstrap/signal server: agents join and see each other, a task is assigned to one claimant
 * only, an invalid op is refused by the author's own conductor, an agent without a valid invite is refused
 * at genesis on a network that requires one, a revoked agent's later records are left out of the others'
 * reads, and an invalid op published by a peer is refused and its author warranted. Needs `holochain`, `hc` and
 * `kitsune2-bootstrap-srv` (built once per machine by `bash scripts/build-holochain.sh`, or on PATH) and
 * workdir/ripple.happ (`npm run build:happ`); where any is missing it says which and skips.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { encodeHashToBase64 } from '@holochain/client'
import {
  CONDUCTOR_CONFIG,
  type Conductor,
  dhtSync,
  type Player,
  type PlayerApp,
  runScenario,
  Scenario,
} from '@holochain/tryorama'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pathWithBuiltTools } from '../../host/conductor/holochain/tools.ts'
import { openAgentKey } from '../../host/identity/keystore.ts'
import { canonicalJson } from '../../zomes-bindings/canonical-json.ts'
import {
  contract,
  DNA_NAMES,
  type DnaName,
  type Task,
  type ZomeFnName,
  type ZomeFunctionContract,
  type ZomeInput,
  type ZomeOutput,
} from '../../zomes-bindings/index.ts'
import { HAPP_PATH, holochainSkipReason } from '../fixtures/holochain-tools.ts'
import { inviteNetworkProperties, witnessedInviteProof } from '../fixtures/membrane-proofs.ts'
import { capability, claimSnapshot } from '../unit/conductor/fixtures/capability.ts'
import { tempDir } from '../unit/conductor/fixtures/test-cell.ts'

const skip = holochainSkipReason(['holochain', 'hc', 'kitsune2-bootstrap-srv'], { tryorama: true }) !== null

// Real conductors start, install five DNAs and gossip: minutes, not seconds, on a small machine.
const SCENARIO_TIMEOUT_MS = 8 * 60_000
/** A conductor call's limit: the first install compiles the five DNAs' wasm (tryorama's 60 s is too short under load). */
const CONDUCTOR_TIMEOUT_MS = 4 * 60_000

const scenarioOf = (test: (scenario: Scenario) => Promise<void>) =>
  runScenario(test, true, { timeout: CONDUCTOR_TIMEOUT_MS })

beforeAll(() => {
  // tryorama spawns the tools by name.
  process.env.PATH = pathWithBuiltTools()
})

const app = { appBundleSource: { type: 'path' as const, value: HAPP_PATH } }
const keyOf = (player: PlayerApp) => encodeHashToBase64(player.agentPubKey)
const micros = (msFromNow: number) => (Date.now() + msFromNow) * 1000

/** A zome call on a real conductor, its answer parsed with the contract (zomes-bindings). */
async function call<D extends DnaName, F extends ZomeFnName<D>>(
  player: PlayerApp,
  dna: D,
  fn: F,
  payload: ZomeInput<D, F>,
): Promise<ZomeOutput<D, F>> {
  const answer = await player.appWs.callZome({ role_name: dna, zome_name: dna, fn_name: fn, payload })
  const output = (contract[dna].functions as Record<string, ZomeFunctionContract>)[fn]!.output
  return output.parse(answer) as ZomeOutput<D, F>
}

async function joined(scenario: Scenario, n: number): Promise<PlayerApp[]> {
  const players = await scenario.addPlayersWithApps(Array.from({ length: n }, () => ({ ...app })))
  await scenario.shareAllAgents()
  return players
}

const dnaHashOf = (player: PlayerApp, dna: DnaName) => player.namedCells.get(dna)!.cell_id[0]

/** The hApp with these DNA properties (and a membrane proof) in every DNA, on the scenario's network. */
const appWith = (scenario: Scenario, properties: object, proof?: Uint8Array) => ({
  ...app,
  options: {
    networkSeed: scenario.networkSeed,
    rolesSettings: Object.fromEntries(
      DNA_NAMES.map((dna) => [
        dna,
        { type: 'provisioned' as const, value: { membrane_proof: proof, modifiers: { properties } } },
      ]),
    ),
  },
})

/**
 * Restarts a conductor with self-validation off (`tuning_params.disable_self_validation`, in 0.6.0's
 * production conductor: what Holochain's own warrant tests use): it publishes whatever its zomes write,
 * as a tampered peer would. Only here, in a test's conductor config; the hApp has no such switch.
 */
async function withoutSelfValidation(conductor: Conductor): Promise<void> {
  await conductor.shutDown()
  const path = join(conductor.getTmpDirectory(), CONDUCTOR_CONFIG)
  // A fresh sandbox's config says `tuning_params: null` or nothing; anything else is not ours to overwrite.
  const config = readFileSync(path, 'utf8').replace(/^tuning_params: (null|~)\n/m, '')
  if (/^tuning_params:/m.test(config)) throw new Error(`${path} has tuning_params already`)
  writeFileSync(path, `${config.trimEnd()}\ntuning_params:\n  disable_self_validation: true\n`)
  await conductor.startUp()
}

/** Whether `player`'s conductor integrated an update `author` wrote in agent_registry (its state dump). */
async function holdsUpdateBy(player: PlayerApp, author: string): Promise<boolean> {
  const cellId = player.namedCells.get('agent_registry')!.cell_id
  const { integration_dump: dump } = await player.conductor.adminWs().dumpFullState({ cell_id: cellId })
  return dump.integrated.some((op) => {
    if (!('ChainOp' in op)) return false
    const [, action] = Object.values(op.ChainOp)[0] as [unknown, { type: string; author: Uint8Array }]
    return action.type === 'Update' && encodeHashToBase64(action.author) === author
  })
}

/**
 * The peers `player`'s conductor blocks, once it blocks one (polled). Holochain 0.6.0 blocks an agent when
 * it integrates a warrant against it (integrate_dht_ops_workflow.rs), and a host cannot read the warrant
 * itself: the state dumps join ops with actions (dht_ops_integrated.sql) and warrants have a table of
 * their own; only a zome's get_agent_activity returns them. The block it can see: kitsune2 counts the
 * messages it drops to and from a blocked peer.
 */
async function blockedPeers(player: PlayerApp): Promise<string[]> {
  // Validation, the warrant and its integration run on the conductor's own timers: 45 s on a quiet
  // two-core machine, past 2 minutes beside other conductors (a CI run starts several at once).
  for (let tries = 0; tries < 300; tries++) {
    const { blocked_message_counts: blocked } = await player.conductor.adminWs().dumpNetworkStats()
    const peers = Object.keys(blocked ?? {})
    if (peers.length > 0) return peers
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
  return []
}

function task(): Task {
  return {
    kind: 'sha256',
    input_hash: createHash('sha256')
      .update(canonicalJson({ data: 'hello' }))
      .digest('hex'),
    input_bytes: 16,
    input_cid: null,
    requirements: { min_ram_bytes: 0, min_vram_bytes: 0, gpu: false, min_cores: 1, model: null, tags: [] },
    lease_ms: 60_000,
    deadline: micros(10 * 60_000),
    max_attempts: 2,
    fan_out: 1,
  }
}

describe.skipIf(skip)(
  'scenarios under real tryorama (Holochain 0.6.0 conductors)',
  { timeout: SCENARIO_TIMEOUT_MS },
  () => {
    // One mesh for the scenarios that need no settings of their own: two agents join, then a third, and
    // the three run a task (each scenario of its own cost CI about two minutes more in conductor starts).
    describe('one mesh: two agents, then a third', () => {
      let scenario: Scenario
      let players: PlayerApp[] = []
      const advertiseAndSee = async (joiners: readonly PlayerApp[]) => {
        for (const player of joiners)
          await call(
            player,
            'agent_registry',
            'advertise_capability',
            capability({ name: `node-${players.indexOf(player)}` }),
          )
        await dhtSync(players, dnaHashOf(players[0]!, 'agent_registry'))
        for (const player of players) {
          const nodes = await call(player, 'agent_registry', 'list_nodes', null)
          expect(nodes.map((node) => node.author).sort()).toEqual(players.map(keyOf).sort())
        }
      }
      beforeAll(async () => {
        scenario = new Scenario({ timeout: CONDUCTOR_TIMEOUT_MS })
        players = await joined(scenario, 2)
      }, SCENARIO_TIMEOUT_MS)
      afterAll(() => scenario?.cleanUp(), SCENARIO_TIMEOUT_MS)

      it('2 agents join, advertise and see each other', () => advertiseAndSee(players))

      it('a third joins, advertises, and all 3 see each other', async () => {
        const carol = await scenario.addPlayerWithApp({ ...app })
        await scenario.shareAllAgents()
        players.push(carol)
        await advertiseAndSee([carol])
      })

      it('an entry the rules refuse is refused by the conductor, with the rule', async () => {
        await expect(
          call(players[2]!, 'agent_registry', 'advertise_capability', capability({ name: '' })),
        ).rejects.toThrow(/node_capability\.name_length/)
      })

      it('a task claimed by two agents is assigned to one only, and only its author may assign it', async () => {
        const [alice, bob, carol] = players as [PlayerApp, PlayerApp, PlayerApp]
        const sync = () => dhtSync([alice, bob, carol], dnaHashOf(alice, 'resource_mesh'))
        const submitted = await call(alice, 'resource_mesh', 'submit_task', task())
        await sync()
        const claims: string[] = []
        for (const claimant of [bob, carol]) {
          const claim = await call(claimant, 'resource_mesh', 'claim_task', {
            task: submitted.action_hash,
            snapshot: claimSnapshot(),
          })
          claims.push(claim.action_hash)
        }
        await sync()
        const assignment = (claim: string, assignee: PlayerApp) => ({
          task: submitted.action_hash,
          claim,
          assignee: keyOf(assignee),
          slot: 0,
          attempt: 1,
          lease_expires_at: micros(60_000),
        })
        // The rules refuse it on carol's own conductor: an invalid op never leaves its author.
        await expect(
          call(carol, 'resource_mesh', 'assign_task', assignment(claims[1]!, carol)),
        ).rejects.toThrow(/assignment\.author_is_task_author/)
        await call(alice, 'resource_mesh', 'assign_task', assignment(claims[0]!, bob))
        await sync()
        for (const player of [alice, bob, carol]) {
          const state = await call(player, 'resource_mesh', 'get_task_state', submitted.action_hash)
          expect(state?.status).toBe('assigned')
          expect(state?.claims).toHaveLength(2)
          expect(state?.assignments.map((a) => a.entry.assignee)).toEqual([keyOf(bob)])
        }
      })
    })

    it('an agent without an invite, with an expired or a forged one, is refused by the conductor', async () => {
      await scenarioOf(async (scenario) => {
        const progenitor = await openAgentKey(await tempDir())
        const networkId = randomBytes(32).toString('hex')
        const [player] = (await scenario.addPlayers(1)) as [Player]
        const properties = inviteNetworkProperties(progenitor, networkId)
        const withProof = (proof: Uint8Array | undefined) => appWith(scenario, properties, proof)
        const refusal = async (proof: (agent: string) => Uint8Array | undefined) => {
          const agentPubKey = await player.conductor.adminWs().generateAgentPubKey()
          const install = withProof(proof(encodeHashToBase64(agentPubKey)))
          return player.conductor.installApp({ ...install, options: { ...install.options, agentPubKey } })
        }
        const invite = { progenitor, networkId }
        await expect(refusal(() => undefined)).rejects.toThrow(/membrane_proof\.missing/)
        const expired = (agent: string) =>
          witnessedInviteProof({ ...invite, agent, expiresAt: Date.now() - 60_000 })
        await expect(refusal(expired)).rejects.toThrow(/membrane_proof\.expired/)
        const forged = (agent: string) =>
          witnessedInviteProof({ ...invite, agent, tamper: { role: 'admin' } })
        await expect(refusal(forged)).rejects.toThrow(/sys\.membrane_proof/)
        const valid = witnessedInviteProof({ ...invite, agent: encodeHashToBase64(player.agentPubKey) })
        const [member] = await scenario.installAppsForPlayers([withProof(valid)], [player])
        await call(member!, 'agent_registry', 'advertise_capability', capability({ name: 'invited' }))
        const nodes = await call(member!, 'agent_registry', 'list_nodes', null)
        expect(nodes.map((node) => node.author)).toEqual([keyOf(member!)])
      })
    })

    it("a revoked agent's later ops are ignored by the others' reads, what it wrote before stays", async () => {
      await scenarioOf(async (scenario) => {
        const players = (await scenario.addPlayers(2)) as [Player, Player]
        // The progenitor is the network's admin: the rules admit its revocations.
        const properties = { progenitor: encodeHashToBase64(players[0].agentPubKey) }
        const apps = players.map(() => appWith(scenario, properties))
        const [alice, bob] = (await scenario.installAppsForPlayers(apps, players)) as [PlayerApp, PlayerApp]
        await scenario.shareAllAgents()
        // Once synced, each conductor holds every op of the other's: what a read leaves out, it has.
        const sync = async () => {
          for (const dna of ['agent_registry', 'resource_mesh'] as const)
            await dhtSync([alice, bob], dnaHashOf(alice, dna))
        }
        const claim = (t: { action_hash: string }) =>
          call(bob, 'resource_mesh', 'claim_task', { task: t.action_hash, snapshot: claimSnapshot() })
        const earlier = await call(alice, 'resource_mesh', 'submit_task', task())
        const later = await call(alice, 'resource_mesh', 'submit_task', task())
        await call(bob, 'agent_registry', 'advertise_capability', capability({ name: 'before' }))
        await sync()
        await claim(earlier)
        await call(alice, 'agent_registry', 'revoke', { agent: keyOf(bob), invite_id: null, reason: 'left' })
        await sync()
        await call(bob, 'agent_registry', 'advertise_capability', capability({ name: 'after' }))
        await claim(later)
        await sync()
        // alice's conductor holds bob's later update: its reads leave it out, not the network.
        expect(await holdsUpdateBy(alice, keyOf(bob))).toBe(true)
        const nodes = await call(alice, 'agent_registry', 'list_nodes', null)
        expect(nodes.find((node) => node.author === keyOf(bob))?.entry.name).toBe('before')
        const capabilityOfBob = await call(alice, 'agent_registry', 'get_capability', keyOf(bob))
        expect(capabilityOfBob?.entry.name).toBe('before')
        const claimants = async (t: { action_hash: string }) =>
          (await call(alice, 'resource_mesh', 'get_task_state', t.action_hash))?.claims.map((c) => c.author)
        expect(await claimants(earlier)).toEqual([keyOf(bob)])
        expect(await claimants(later)).toEqual([])
      })
    })

    it('an invalid op published by a peer is refused and its author warranted', async () => {
      await scenarioOf(async (scenario) => {
        const [honest, rogue] = (await scenario.addPlayers(2)) as [Player, Player]
        await withoutSelfValidation(rogue.conductor)
        const apps = [honest, rogue].map(() => ({ ...app, options: { networkSeed: scenario.networkSeed } }))
        const [alice, mallory] = (await scenario.installAppsForPlayers(apps, [honest, rogue])) as [
          PlayerApp,
          PlayerApp,
        ]
        await scenario.shareAllAgents()
        // Its own conductor no longer checks it: the capability the rules refuse is written and published.
        await call(mallory, 'agent_registry', 'advertise_capability', capability({ name: '' }))
        // alice's conductor, an authority of every op here, refuses its ops (StoreRecord and StoreEntry
        // alike: integrity_support judges the entry on both), warrants mallory, integrates the warrant
        // and so blocks mallory: from then on it drops their messages both ways.
        expect(await blockedPeers(alice)).toHaveLength(1)
        expect(await call(alice, 'agent_registry', 'list_nodes', null)).toEqual([])
        expect(await call(alice, 'agent_registry', 'get_capability', keyOf(mallory))).toBeNull()
      })
    })
  },
)
