/**
 * Terminal injection against a real `ripple up` process: two rogue peers in this process (real libp2p,
 * ops forged with the test's own helpers, signed with their real keys) on the daemon's network. Mallory
 * advertises a capability named with escape codes: the daemon's rules refuse it. Trudy sends an entry
 * whose unknown key carries escape codes, a C1 CSI, a bidi override and a fake "(self)" row: the rules
 * refuse it too, and their reason quotes the key, so it reaches `ripple peers` (the warrant's reason) and
 * the daemon's log. Neither prints a byte a terminal acts on, and no fake "(self)" row appears.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PeersReply } from '../../host/api/contract/index.ts'
import { loadNetworkConfig } from '../../host/config/network-config.ts'
import { authorCell, craftCreate, publishOps } from '../scenarios/forge.ts'
import { type Player, Scenario } from '../scenarios/harness.ts'
import { capability } from '../unit/conductor/fixtures/capability.ts'
import { isolatedNetwork, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

// biome-ignore lint/suspicious/noControlCharactersInRegex: what the test looks for
const TERMINAL_ACTS_ON = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u
const FAKE_SELF = 'uhCAkFAKEFAK… (self)  honest  online'

let root: string
let dataDir: string
let daemon: RunningRipple
let agent: string
let scenario: Scenario
let mallory: Player
let trudy: Player

async function peers(): Promise<PeersReply> {
  const res = await runRipple(['peers', '--data-dir', dataDir, '--json'])
  expect(res.code, res.stderr).toBe(0)
  return JSON.parse(res.stdout) as PeersReply
}

/** Polls the daemon's peers until `ok` holds. */
async function peersUntil(ok: (reply: PeersReply) => boolean, timeoutMs = 30_000): Promise<PeersReply> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const reply = await peers()
    if (ok(reply)) return reply
    if (Date.now() > deadline) throw new Error(`peers never matched: ${JSON.stringify(reply)}`)
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-inject-'))
  const networkFile = await isolatedNetwork(root, 'e2e-inject')
  dataDir = join(root, 'honest')
  daemon = await startRipple(['--network', networkFile, '--data-dir', dataDir, '--name', 'honest'], 90_000)
  agent = /^ripple: agent (\S+)$/m.exec(daemon.stdout())?.[1] ?? ''
  scenario = new Scenario(await loadNetworkConfig(networkFile))
  ;[mallory, trudy] = (await scenario.addPlayers(2)) as [Player, Player]
  for (const p of [mallory, trudy]) {
    await p.conductor.callZome('agent_registry', 'advertise_capability', capability({ name: p.name }))
  }
  // Both rogues are known to the daemon by their honest capability before they misbehave.
  await peersUntil((r) => ['alice', 'bob'].every((n) => r.peers.some((p) => p.name === n)))
}, 120_000)

afterAll(async () => {
  await scenario?.cleanUp()
  if (daemon && daemon.child.exitCode === null) daemon.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

describe('a peer that sends escape codes', () => {
  it('is refused by the rules, and printed by ripple peers without a byte a terminal acts on', async () => {
    const named = await craftCreate(
      authorCell(mallory, 'agent_registry'),
      'NodeCapability',
      capability({ name: `\u001b[2J\u001b[H${FAKE_SELF.slice(0, 40)}` }),
    )
    await publishOps(mallory, 'agent_registry', [named.op])
    const keyed = await craftCreate(authorCell(trudy, 'agent_registry'), 'NodeCapability', {
      ...capability({ name: 'trudy' }),
      [`\u001b[2K\u009b1A\u202e\n${FAKE_SELF}`]: true,
    })
    await publishOps(trudy, 'agent_registry', [keyed.op])

    const reply = await peersUntil((r) => r.warrants.length === 2)
    const rules = Object.fromEntries(reply.warrants.map((w) => [w.agent, w.rule]))
    expect(rules).toEqual({
      [mallory.agentPubKey]: 'node_capability.name_control',
      [trudy.agentPubKey]: 'node_capability.shape',
    })
    // The refused name was never stored: mallory keeps its honest one.
    expect(reply.peers.find((p) => p.agent === mallory.agentPubKey)?.name).toBe('alice')
    // The reason quotes trudy's key raw: the one peer string that reaches the printer.
    expect(reply.warrants.find((w) => w.agent === trudy.agentPubKey)?.reason).toContain('\u001b[2K')

    // The --json reply is the same JSON, inert in a terminal too.
    const json = await runRipple(['peers', '--data-dir', dataDir, '--json'])
    for (const line of json.stdout.split('\n')) expect(line).not.toMatch(TERMINAL_ACTS_ON)
    expect((JSON.parse(json.stdout) as PeersReply).warrants).toEqual(reply.warrants)

    const text = await runRipple(['peers', '--data-dir', dataDir])
    expect(text.code, text.stderr).toBe(0)
    for (const line of text.stdout.split('\n')) expect(line).not.toMatch(TERMINAL_ACTS_ON)
    expect(text.stdout).toContain('\\x1b[2K\\x9b1A\\u{202e}\\n')
    const selfRows = text.stdout.split('\n').filter((line) => /^\S+… \(self\)/.test(line))
    expect(selfRows).toHaveLength(1)
    expect(selfRows[0]!.startsWith(agent.slice(0, 12))).toBe(true)

    // The daemon logged the warrants (pino JSON on stderr) without the raw characters either.
    expect(daemon.stderr()).toContain(trudy.agentPubKey)
    for (const line of daemon.stderr().split('\n')) expect(line).not.toMatch(TERMINAL_ACTS_ON)
  }, 60_000)
})
