/**
 * Writes the shared validation vectors `tests/vectors/<dna>.json`, run by `cargo test` (dnas/rules) and by
 * vitest (tests/unit/rules). Hashes and CIDs are real encodings derived from fixed seeds, so the output is
 * stable: `npx tsx tests/vectors/generate.ts` rewrites the same files unless a case here changes.
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { blake2b } from '@noble/hashes/blake2.js'
import { sha256 } from '@noble/hashes/sha2.js'
import type {
  ResolvedDependency,
  ValidationInput,
} from '../../host/conductor/embedded/validation/validator.ts'
import {
  type AnswerLeaf,
  answerLeafBytes,
  answerLeavesOf,
  type DnaName,
  dhtLocation,
  HOLO_HASH_PREFIXES,
  type HoloHashKind,
  type LeafProof,
  merklePaths,
  merkleRoot,
  type ServedLeaf,
  servedLeavesOf,
} from '../../zomes-bindings/index.ts'

type Expect =
  | { outcome: 'valid' }
  | { outcome: 'invalid'; rule: string }
  | { outcome: 'unresolved'; deps: string[] }
interface Vector {
  name: string
  input: ValidationInput
  expect: Expect
}
type Json = Record<string, unknown>

function holoHash(kind: HoloHashKind, seed: string): string {
  const core = blake2b(new TextEncoder().encode(seed), { dkLen: 32 })
  const bytes = Buffer.concat([HOLO_HASH_PREFIXES[kind], core, dhtLocation(core)])
  return `u${bytes.toString('base64url')}`
}

function base32(bytes: Uint8Array): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567'
  let bits = 0
  let value = 0
  let out = ''
  for (const b of bytes) {
    value = (value << 8) | b
    bits += 8
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  return bits > 0 ? out + alphabet[(value << (5 - bits)) & 31] : out
}

function base58(bytes: Uint8Array): string {
  const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
  let n = BigInt(`0x${Buffer.from(bytes).toString('hex')}`)
  let out = ''
  while (n > 0n) {
    out = alphabet[Number(n % 58n)] + out
    n /= 58n
  }
  return out
}

/** CIDv1 (raw codec, sha2-256) of `content`, base32: what `ipfs add --cid-version 1 --raw-leaves` prints. */
const cidV1 = (content: string) =>
  `b${base32(Uint8Array.of(0x01, 0x55, 0x12, 0x20, ...sha256(Buffer.from(content))))}`
/** CIDv0 (dag-pb sha2-256 multihash) shaped value, base58btc "Qm...". */
const cidV0 = (content: string) => base58(Uint8Array.of(0x12, 0x20, ...sha256(Buffer.from(content))))
const sha256Hex = (content: string) => Buffer.from(sha256(Buffer.from(content))).toString('hex')

const agent = (name: string) => holoHash('agent', `agent:${name}`)
const action = (name: string) => holoHash('action', `action:${name}`)
const alice = agent('alice')
const bob = agent('bob')
const carol = agent('carol')
const mallory = agent('mallory')
/** A well-formed agent key whose DHT location bytes are wrong. */
const badLocation = `${alice.slice(0, -2)}${alice.endsWith('AA') ? 'AB' : 'AA'}`
const MAX_SAFE = Number.MAX_SAFE_INTEGER
const NOW = 1_763_700_000_000_000

function clone<T>(value: T): T {
  return structuredClone(value)
}

/** A copy of `entry` with the value at the dotted `path` replaced (or removed when `value` is undefined). */
function withField(entry: Json, path: string, value: unknown): Json {
  const copy = clone(entry)
  const keys = path.split('.')
  const last = keys.pop()!
  let node = copy as Record<string, unknown>
  for (const key of keys) node = node[key] as Record<string, unknown>
  if (value === undefined) delete node[last]
  else node[last] = value
  return copy
}

const dep = (actionHash: string, author: string, entryType: string, entry: unknown): ResolvedDependency => ({
  action_hash: actionHash,
  author,
  entry_type: entryType,
  entry,
})
const depsOf = (...list: ResolvedDependency[]) => Object.fromEntries(list.map((d) => [d.action_hash, d]))

interface OpOptions {
  author?: string
  deps?: ResolvedDependency[]
  properties?: Json
  original?: ResolvedDependency
  /** The membrane proof of the author's genesis (networks that require invites). */
  authorProof?: Json | null
}

/** Vectors of one entry type of one DNA. */
class Cases {
  readonly vectors: Vector[] = []
  constructor(
    private readonly dna: DnaName,
    private readonly entryType: string,
    private readonly defaults: OpOptions = {},
  ) {}

  input(op: ValidationInput['op'], entry: unknown, options: OpOptions): ValidationInput {
    const o = { ...this.defaults, ...options }
    return {
      dna: this.dna,
      entry_type: this.entryType,
      op,
      author: o.author ?? alice,
      entry,
      ...(o.original ? { original: o.original } : {}),
      properties: o.properties ?? {},
      deps: depsOf(...(o.deps ?? [])),
      ...(o.authorProof !== undefined ? { author_proof: o.authorProof } : {}),
    }
  }

  add(name: string, input: ValidationInput, expect: Expect): this {
    this.vectors.push({ name: `${this.entryType}: ${name}`, input, expect })
    return this
  }

  valid(name: string, entry: unknown, options: OpOptions = {}): this {
    return this.add(name, this.input('create', entry, options), { outcome: 'valid' })
  }

  invalid(name: string, entry: unknown, rule: string, options: OpOptions = {}): this {
    return this.add(name, this.input('create', entry, options), { outcome: 'invalid', rule })
  }

  /** One invalid create per [name, path, value, rule]: `base` with that field changed. */
  fields(base: Json, cases: [string, string, unknown, string][], options: OpOptions = {}): this {
    for (const [name, path, value, rule] of cases)
      this.invalid(name, withField(base, path, value), rule, options)
    return this
  }

  unresolved(name: string, entry: unknown, deps: string[], options: OpOptions = {}): this {
    return this.add(name, this.input('create', entry, options), { outcome: 'unresolved', deps })
  }

  change(name: string, op: 'update' | 'delete', entry: unknown, expect: Expect, options: OpOptions): this {
    return this.add(name, this.input(op, op === 'delete' ? null : entry, options), expect)
  }
}

const ok: Expect = { outcome: 'valid' }
const bad = (rule: string): Expect => ({ outcome: 'invalid', rule })

// agent_registry

const capability: Json = {
  name: 'alice-workstation',
  hardware: {
    cpu: {
      model: 'AMD Ryzen 9 7950X 16-Core Processor',
      cores: 16,
      threads: 32,
      arch: 'x64',
      speed_ghz: 4.5,
    },
    ram_bytes: 68_719_476_736,
    gpus: [{ vendor: 'NVIDIA', model: 'GeForce RTX 4090', vram_bytes: 25_757_220_864 }],
    disk_free_bytes: 812_345_678_912,
    os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', kernel: '6.1.0-26-amd64' },
  },
  inference: {
    models: [
      {
        name: 'qwen2.5-7b-instruct-q4_k_m',
        file_hash: sha256Hex('qwen2.5-7b-instruct-q4_k_m.gguf'),
        size_bytes: 4_683_073_184,
        parameters: 7_615_616_512,
        quantisation: 'Q4_K_M',
        context_length: 32_768,
        architecture: 'qwen2',
        loaded: true,
      },
      {
        name: 'nomic-embed-text-v1.5',
        file_hash: sha256Hex('nomic-embed-text-v1.5.f16.gguf'),
        size_bytes: 274_290_560,
        parameters: null,
        quantisation: null,
        context_length: null,
        architecture: null,
        loaded: false,
      },
    ],
    tokens_per_second: 87.5,
  },
  storage: { ipfs_free_bytes: 500_000_000_000, pinned_bytes: 1_234_567 },
  memory: { shards_held: 3, capacity_bytes: 4_294_967_296 },
  tags: ['gpu', 'cuda', 'region:eu-west'],
  host_version: '0.1.0',
}
const minimalCapability = withField(
  withField(withField(capability, 'hardware.gpus', []), 'inference', { models: [], tokens_per_second: null }),
  'tags',
  [],
)
const capabilityRecord = dep(action('capability-alice'), alice, 'NodeCapability', capability)
const model0 = (capability.inference as { models: Json[] }).models[0]!

const nodeCapability = new Cases('agent_registry', 'NodeCapability')
  .valid('full capability with a GPU and two models', capability)
  .valid('CPU-only node with no models or tags', minimalCapability)
  .valid('name and CPU model in other scripts', {
    ...capability,
    name: 'élise-ワークステーション',
    hardware: withField(capability, 'hardware.cpu.model', 'Ryzen™ 9 — 7950X').hardware,
  })
  .fields(capability, [
    // Terminal injection: escape sequences, C1 controls, DEL and bidi overrides in short human strings.
    ['name with an escape sequence', 'name', '\u001b[2J\u001b[Hbob (self)', 'node_capability.name_control'],
    ['name with a newline', 'name', 'alice\nbob', 'node_capability.name_control'],
    ['name with a bidi override', 'name', 'alice\u202egnp.exe', 'node_capability.name_control'],
    ['CPU model with DEL', 'hardware.cpu.model', 'AMD\u007f', 'node_capability.hardware_cpu_model_control'],
    [
      'GPU model with a C1 CSI',
      'hardware.gpus',
      [{ vendor: 'NVIDIA', model: 'A100\u009b2J', vram_bytes: 1 }],
      'node_capability.hardware_gpus_model_control',
    ],
    [
      'OS kernel with a bell',
      'hardware.os.kernel',
      '6.1\u0007',
      'node_capability.hardware_os_kernel_control',
    ],
    [
      'model name with an escape sequence',
      'inference.models',
      [{ ...model0, name: 'qwen\u001b]0;owned\u0007' }],
      'node_capability.inference_models_name_control',
    ],
    [
      'model quantisation with a tab',
      'inference.models',
      [{ ...model0, quantisation: 'Q4\tK' }],
      'node_capability.inference_models_quantisation_control',
    ],
    [
      'host version with a carriage return',
      'host_version',
      '0.1.0\r',
      'node_capability.host_version_control',
    ],
    ['empty name', 'name', '', 'node_capability.name_length'],
    ['name of 65 characters', 'name', 'n'.repeat(65), 'node_capability.name_length'],
    ['zero cores', 'hardware.cpu.cores', 0, 'node_capability.hardware_cpu_cores_range'],
    [
      'fewer threads than cores',
      'hardware.cpu.threads',
      8,
      'node_capability.hardware_cpu_threads_below_cores',
    ],
    ['25 GHz CPU', 'hardware.cpu.speed_ghz', 25, 'node_capability.hardware_cpu_speed_ghz_range'],
    ['no RAM', 'hardware.ram_bytes', 0, 'node_capability.hardware_ram_bytes_range'],
    ['RAM beyond 2^53-1', 'hardware.ram_bytes', MAX_SAFE + 1, 'node_capability.hardware_ram_bytes_range'],
    [
      '17 GPUs',
      'hardware.gpus',
      Array.from({ length: 17 }, () => ({ vendor: 'NVIDIA', model: 'A100', vram_bytes: 1 })),
      'node_capability.hardware_gpus_count',
    ],
    [
      'empty GPU vendor',
      'hardware.gpus',
      [{ vendor: '', model: 'A100', vram_bytes: 1 }],
      'node_capability.hardware_gpus_vendor_length',
    ],
    ['empty OS platform', 'hardware.os.platform', '', 'node_capability.hardware_os_platform_length'],
    [
      'uppercase model file hash',
      'inference.models',
      [{ ...model0, file_hash: sha256Hex('x').toUpperCase() }],
      'node_capability.inference_models_file_hash_format',
    ],
    ['the same model twice', 'inference.models', [model0, model0], 'node_capability.inference_models_unique'],
    [
      'zero context length',
      'inference.models',
      [{ ...model0, context_length: 0 }],
      'node_capability.inference_models_context_length_range',
    ],
    [
      'negative tokens per second',
      'inference.tokens_per_second',
      -1,
      'node_capability.inference_tokens_per_second_range',
    ],
    ['shards held above 65536', 'memory.shards_held', 65_537, 'node_capability.memory_shards_held_range'],
    [
      'memory capacity beyond 2^53-1',
      'memory.capacity_bytes',
      MAX_SAFE + 1,
      'node_capability.memory_capacity_bytes_range',
    ],
    ['negative memory capacity', 'memory.capacity_bytes', -1, 'node_capability.shape'],
    ['fractional memory capacity', 'memory.capacity_bytes', 0.5, 'node_capability.shape'],
    ['memory capacity left out', 'memory.capacity_bytes', undefined, 'node_capability.shape'],
    ['uppercase tag', 'tags', ['GPU'], 'node_capability.tags_format'],
    ['tag of 33 characters', 'tags', ['t'.repeat(33)], 'node_capability.tags_length'],
    ['the same tag twice', 'tags', ['gpu', 'gpu'], 'node_capability.tags_unique'],
    ['33 tags', 'tags', Array.from({ length: 33 }, (_, i) => `t${i}`), 'node_capability.tags_count'],
    ['empty host version', 'host_version', '', 'node_capability.host_version_length'],
    ['unknown field', 'extra', true, 'node_capability.shape'],
    ['nullable key left out', 'inference.tokens_per_second', undefined, 'node_capability.shape'],
    ['fractional RAM', 'hardware.ram_bytes', 1.5, 'node_capability.shape'],
  ])
  .change('update by its author', 'update', minimalCapability, ok, { original: capabilityRecord })
  .change('update by another agent', 'update', minimalCapability, bad('node_capability.update_author'), {
    author: mallory,
    original: capabilityRecord,
  })
  .change(
    'update with an invalid entry',
    'update',
    withField(capability, 'name', ''),
    bad('node_capability.name_length'),
    {
      original: capabilityRecord,
    },
  )
  .change('delete by its author', 'delete', null, ok, { original: capabilityRecord })
  .change('delete by another agent', 'delete', null, bad('node_capability.delete_author'), {
    author: bob,
    original: capabilityRecord,
  })
  .change('update of a record of another type', 'update', capability, bad('input.original_type_mismatch'), {
    original: dep(action('task-x'), alice, 'Task', {}),
  })
  .change('update without the original record', 'update', capability, bad('input.original_missing'), {})
  .invalid('author key with wrong DHT location', capability, 'input.author_format', { author: badLocation })
  .invalid('author is an action hash', capability, 'input.author_format', { author: action('not-an-agent') })
  .invalid('author is not base64url', capability, 'input.author_format', { author: 'uhCAk!!!' })

// Membrane proofs (any DNA): on a network that requires invites, a genesis needs one from the progenitor.

const networkId = sha256Hex('ripple/v1|local|local-mesh')
const membrane = { properties: { membrane: 'invite', progenitor: alice, network_id: networkId } }
const grant: Json = {
  network_id: networkId,
  role: 'worker',
  invite_id: '0123456789abcdef0123456789abcdef',
  issued_at: 1_763_700_000_000,
  expires_at: 1_763_786_400_000,
  issuer: alice,
}
const proof = (g: Json = grant): Json => ({ grant: g, signature: `${'A'.repeat(86)}==` })
const GENESIS = 1_763_700_600_000_000
const membraneCases = new Cases('agent_registry', 'MembraneProof', { ...membrane, author: bob })
  .valid('invite from the admin, used before it expires', { proof: proof(), genesis_at: GENESIS })
  .valid('the progenitor needs none', { proof: null, genesis_at: GENESIS }, { author: alice })
  .valid('an open network asks for none', { proof: null, genesis_at: GENESIS }, { properties: {} })
  .invalid('no invite', { proof: null, genesis_at: GENESIS }, 'membrane_proof.missing')
  .invalid(
    'invite issued by someone else',
    { proof: proof({ ...grant, issuer: carol }), genesis_at: GENESIS },
    'membrane_proof.issuer_is_admin',
  )
  .valid('invite from an agent the progenitor invited as admin', {
    proof: proof({ ...grant, issuer: carol }),
    genesis_at: GENESIS,
    issuer_proof: proof({ ...grant, role: 'admin' }),
  })
  .invalid(
    'invite from an agent invited as member',
    {
      proof: proof({ ...grant, issuer: carol }),
      genesis_at: GENESIS,
      issuer_proof: proof({ ...grant, role: 'member' }),
    },
    'membrane_proof.issuer_is_admin',
  )
  .invalid(
    'invite from an admin of another network',
    {
      proof: proof({ ...grant, issuer: carol }),
      genesis_at: GENESIS,
      issuer_proof: proof({ ...grant, role: 'admin', network_id: sha256Hex('other') }),
    },
    'membrane_proof.issuer_is_admin',
  )
  .invalid(
    'invite to another network',
    { proof: proof({ ...grant, network_id: sha256Hex('other') }), genesis_at: GENESIS },
    'membrane_proof.network_mismatch',
  )
  .invalid(
    'chain begun after the invite expired',
    { proof: proof(), genesis_at: (grant.expires_at as number) * 1000 + 1 },
    'membrane_proof.expired',
  )
  .valid('a one-time invite used first', { proof: proof(), genesis_at: GENESIS, prior_uses: 0 })
  .invalid(
    'a one-time invite another agent used first',
    { proof: proof(), genesis_at: GENESIS, prior_uses: 1 },
    'membrane_proof.invite_used',
  )
  .valid('a third use of an invite for three', {
    proof: proof({ ...grant, uses: 3 }),
    genesis_at: GENESIS,
    prior_uses: 2,
  })
  .invalid(
    'a fourth use of an invite for three',
    { proof: proof({ ...grant, uses: 3 }), genesis_at: GENESIS, prior_uses: 3 },
    'membrane_proof.invite_used',
  )
  .invalid(
    'an invite for no one',
    { proof: proof({ ...grant, uses: 0 }), genesis_at: GENESIS },
    'membrane_proof.grant_uses_format',
  )
  .invalid(
    'unknown role',
    { proof: proof({ ...grant, role: 'owner' }), genesis_at: GENESIS },
    'membrane_proof.grant_role_format',
  )
  .invalid(
    'proof without its grant',
    { proof: { signature: 'x' }, genesis_at: GENESIS },
    'membrane_proof.shape',
  )
  .invalid(
    'network without a progenitor',
    { proof: proof(), genesis_at: GENESIS },
    'membrane_proof.properties_progenitor_format',
    {
      properties: { membrane: 'invite' },
    },
  )

// Revocations: an admin (the progenitor, or an agent invited as admin) withdraws an agent or an invite.

const revocation: Json = { agent: bob, invite_id: null, reason: 'left the lab' }
const revocationRecord = dep(action('revocation-bob'), alice, 'Revocation', revocation)
const invitedAs = (role: string) => proof({ ...grant, role })
const revocationCases = new Cases('agent_registry', 'Revocation', membrane)
  .valid('the progenitor revokes an agent', revocation)
  .valid('the progenitor revokes an invite not used yet', {
    ...revocation,
    agent: null,
    invite_id: grant.invite_id,
  })
  .valid('an agent invited as admin revokes', revocation, { author: carol, authorProof: invitedAs('admin') })
  .valid('the progenitor of a network without invites revokes', revocation, {
    properties: { progenitor: alice },
  })
  .invalid('by an agent invited as member', revocation, 'revocation.author_is_admin', {
    author: carol,
    authorProof: invitedAs('member'),
  })
  .invalid('by an agent invited as worker', revocation, 'revocation.author_is_admin', {
    author: carol,
    authorProof: invitedAs('worker'),
  })
  .invalid('by an agent whose invite the host did not give', revocation, 'revocation.author_role_unknown', {
    author: carol,
  })
  .invalid('on a network without a progenitor', revocation, 'revocation.no_progenitor', { properties: {} })
  .invalid('of the progenitor', { ...revocation, agent: alice }, 'revocation.progenitor')
  .invalid(
    'naming both an agent and an invite',
    { ...revocation, invite_id: grant.invite_id },
    'revocation.target',
  )
  .invalid('naming neither', { ...revocation, agent: null }, 'revocation.target')
  .fields(revocation, [
    ['agent is an action hash', 'agent', action('not-an-agent'), 'revocation.agent_format'],
    ['reason with an escape sequence', 'reason', 'bye\u001b[2J', 'revocation.reason_control'],
    ['reason over 1024 characters', 'reason', 'x'.repeat(1025), 'revocation.reason_length'],
    ['missing reason', 'reason', undefined, 'revocation.shape'],
  ])
  .fields({ ...revocation, agent: null, invite_id: grant.invite_id }, [
    ['invite id in capitals', 'invite_id', 'ABCDEF0123456789ABCDEF0123456789', 'revocation.invite_id_format'],
  ])
  .change('update', 'update', revocation, bad('revocation.no_update'), { original: revocationRecord })
  .change('delete', 'delete', null, bad('revocation.no_delete'), { original: revocationRecord })

// Legacy seals: an admin lists the uses of 0.1.0 invites it saw (issue 55, point 1).

const seal: Json = { uses: [{ invite_id: grant.invite_id, agent: bob }] }
const sealRecord = dep(action('seal'), alice, 'LegacySeal', seal)
const legacySealCases = new Cases('agent_registry', 'LegacySeal', membrane)
  .valid('the progenitor seals the uses it saw', seal)
  .valid('an agent invited as admin seals', seal, { author: carol, authorProof: invitedAs('admin') })
  .invalid('by an agent invited as member', seal, 'legacy_seal.author_is_admin', {
    author: carol,
    authorProof: invitedAs('member'),
  })
  .invalid('with no use', { uses: [] }, 'legacy_seal.uses_count')
  .invalid(
    'a use twice',
    { uses: [...(seal.uses as Json[]), ...(seal.uses as Json[])] },
    'legacy_seal.uses_unique',
  )
  .invalid(
    'an invite id in capitals',
    { uses: [{ invite_id: 'ABCDEF0123456789ABCDEF0123456789', agent: bob }] },
    'legacy_seal.uses_invite_id_format',
  )
  .invalid(
    'an agent that is an action hash',
    { uses: [{ invite_id: grant.invite_id, agent: action('x') }] },
    'legacy_seal.uses_agent_format',
  )
  .invalid('a field it does not know', { ...seal, note: 'x' }, 'legacy_seal.shape')
  .change('update', 'update', seal, bad('legacy_seal.no_update'), { original: sealRecord })
  .change('delete', 'delete', null, bad('legacy_seal.no_delete'), { original: sealRecord })

const unknownDna = new Cases('agent_registry', 'NodeCapability')
unknownDna.add(
  'unknown DNA',
  { ...unknownDna.input('create', capability, {}), dna: 'billing' as DnaName },
  bad('input.dna_unknown'),
)
unknownDna.add(
  'unknown entry type',
  { ...unknownDna.input('create', capability, {}), entry_type: 'Heartbeat' },
  bad('input.entry_type_unknown'),
)

// resource_mesh

const taskInput = { prompt: 'Summarise the design brief in one sentence.', max_tokens: 128, temperature: 0.2 }
const task: Json = {
  kind: 'infer.generate',
  input_hash: sha256Hex(JSON.stringify(taskInput)),
  input_bytes: JSON.stringify(taskInput).length,
  input_cid: null,
  requirements: {
    min_ram_bytes: 8_589_934_592,
    min_vram_bytes: 6_442_450_944,
    gpu: true,
    min_cores: 4,
    model: 'qwen2.5-7b-instruct-q4_k_m',
    tags: ['cuda'],
  },
  lease_ms: 60_000,
  deadline: NOW + 600_000_000,
  max_attempts: 3,
  fan_out: 1,
}
const taskHash = action('task-1')
const otherTaskHash = action('task-2')
const taskRecord = dep(taskHash, alice, 'Task', task)
/** The same task asked of three peers, reduced by agreement. */
const fanOutTaskRecord = dep(taskHash, alice, 'Task', { ...task, fan_out: 3 })

const snapshot: Json = {
  cores: 16,
  ram_bytes: 60_000_000_000,
  vram_bytes: 24_000_000_000,
  gpu_count: 1,
  models: ['qwen2.5-7b-instruct-q4_k_m', 'nomic-embed-text-v1.5'],
  loaded_models: ['qwen2.5-7b-instruct-q4_k_m'],
  tags: ['gpu', 'cuda'],
  queue_depth: 0,
}
const claim: Json = { task: taskHash, snapshot }
const claimHash = action('claim-bob-1')
const claimRecord = dep(claimHash, bob, 'Claim', claim)

const taskCases = new Cases('resource_mesh', 'Task')
  .valid('inference task, its input kept by the requester', task)
  .valid('submitted by an agent invited as member', task, {
    ...membrane,
    author: carol,
    authorProof: invitedAs('member'),
  })
  .valid('submitted by the progenitor of a network with invites', task, membrane)
  .invalid('submitted by an agent invited as worker', task, 'task.author_role', {
    ...membrane,
    author: carol,
    authorProof: invitedAs('worker'),
  })
  .invalid('submitted by an agent whose invite the host did not give', task, 'task.author_role_unknown', {
    ...membrane,
    author: carol,
  })
  .valid('CPU task with its input on IPFS', {
    ...task,
    kind: 'sha256',
    input_bytes: 1_000_000,
    input_cid: cidV1('big input'),
    requirements: { min_ram_bytes: 0, min_vram_bytes: 0, gpu: false, min_cores: 0, model: null, tags: [] },
  })
  .fields(task, [
    [
      'model name with an escape sequence',
      'requirements.model',
      'qwen\u001b[2J',
      'task.requirements_model_control',
    ],
    ['kind with capitals', 'kind', 'Infer.Generate', 'task.kind_format'],
    ['kind with an empty segment', 'kind', 'infer..generate', 'task.kind_format'],
    ['kind of 65 characters', 'kind', 'k'.repeat(65), 'task.kind_length'],
    ['malformed input hash', 'input_hash', 'abc123', 'task.input_hash_format'],
    ['input size beyond 2^53-1', 'input_bytes', MAX_SAFE + 1, 'task.input_bytes_range'],
    ['malformed input CID', 'input_cid', 'bafy-not-a-cid', 'task.input_cid_format'],
    ['VRAM without a GPU', 'requirements.gpu', false, 'task.requirements_vram_without_gpu'],
    ['min cores above 4096', 'requirements.min_cores', 4097, 'task.requirements_min_cores_range'],
    ['empty model name', 'requirements.model', '', 'task.requirements_model_length'],
    [
      '17 requirement tags',
      'requirements.tags',
      Array.from({ length: 17 }, (_, i) => `t${i}`),
      'task.requirements_tags_count',
    ],
    ['requirement tag with a space', 'requirements.tags', ['has space'], 'task.requirements_tags_format'],
    ['lease of 10 ms', 'lease_ms', 10, 'task.lease_ms_range'],
    ['lease over a day', 'lease_ms', 86_400_001, 'task.lease_ms_range'],
    ['deadline beyond 2^53-1', 'deadline', MAX_SAFE + 1, 'task.deadline_range'],
    ['zero attempts', 'max_attempts', 0, 'task.max_attempts_range'],
    ['fan-out of 17', 'fan_out', 17, 'task.fan_out_range'],
    ['input hash left out', 'input_hash', undefined, 'task.shape'],
    ['the input itself published', 'input', taskInput, 'task.shape'],
  ])
  .change('update', 'update', task, bad('task.no_update'), { original: taskRecord })
  .change('delete', 'delete', null, bad('task.no_delete'), { original: taskRecord })

const claimCases = new Cases('resource_mesh', 'Claim', { author: bob, deps: [taskRecord] })
  .valid('claim that meets the requirements', claim)
  .valid('claim on the claimant’s own task', claim, { author: alice })
  .unresolved('claim without its task', claim, [taskHash], { deps: [] })
  .fields(claim, [
    [
      'snapshot model with a bidi isolate',
      'snapshot.models',
      ['qwen\u2066x'],
      'claim.snapshot_models_control',
    ],
    ['task is an agent key', 'task', bob, 'claim.task_format'],
    ['zero cores', 'snapshot.cores', 0, 'claim.snapshot_cores_range'],
    ['17 GPUs', 'snapshot.gpu_count', 17, 'claim.snapshot_gpu_count_range'],
    [
      '65 models',
      'snapshot.models',
      Array.from({ length: 65 }, (_, i) => `m${i}`),
      'claim.snapshot_models_count',
    ],
    ['empty loaded model name', 'snapshot.loaded_models', [''], 'claim.snapshot_loaded_models_length'],
    ['bad tag', 'snapshot.tags', ['Bad'], 'claim.snapshot_tags_format'],
    ['too little RAM', 'snapshot.ram_bytes', 1_000, 'claim.meets_requirements'],
    ['no GPU', 'snapshot.gpu_count', 0, 'claim.meets_requirements'],
    ['model not available', 'snapshot.models', ['llama-3-8b'], 'claim.meets_requirements'],
    ['missing a required tag', 'snapshot.tags', ['gpu'], 'claim.meets_requirements'],
    ['unknown snapshot field', 'snapshot.load', 0.5, 'claim.shape'],
  ])
  .invalid('task hash resolves to a Claim', claim, 'claim.task_type', {
    deps: [dep(taskHash, alice, 'Claim', claim)],
  })
  .change('withdrawn by the claimant', 'delete', null, ok, { original: claimRecord })
  .change('withdrawn by another agent', 'delete', null, bad('claim.delete_author'), {
    author: carol,
    original: claimRecord,
  })
  .change('update', 'update', claim, bad('claim.no_update'), { original: claimRecord })

const assignment: Json = {
  task: taskHash,
  claim: claimHash,
  assignee: bob,
  slot: 0,
  attempt: 1,
  lease_expires_at: NOW + 60_000_000,
}
const assignmentHash = action('assignment-1')
const assignmentRecord = dep(assignmentHash, alice, 'Assignment', assignment)

const assignmentCases = new Cases('resource_mesh', 'Assignment', { deps: [taskRecord, claimRecord] })
  .valid('task author assigns the claimant', assignment)
  .valid('last allowed attempt', { ...assignment, attempt: 3 })
  .unresolved('without task and claim', assignment, [taskHash, claimHash], { deps: [] })
  .unresolved('without the claim', assignment, [claimHash], { deps: [taskRecord] })
  .invalid('written by the claimant', assignment, 'assignment.author_is_task_author', { author: bob })
  .invalid(
    'assignee is not the claimant',
    { ...assignment, assignee: carol },
    'assignment.assignee_is_claimant',
  )
  .invalid(
    'claim for another task',
    { ...assignment, task: otherTaskHash },
    'assignment.claim_task_mismatch',
    {
      deps: [dep(otherTaskHash, alice, 'Task', task), claimRecord],
    },
  )
  .invalid('attempt above max_attempts', { ...assignment, attempt: 4 }, 'assignment.attempt_exceeds_max')
  .valid(
    'third slot of a fan-out 3 task',
    { ...assignment, slot: 2 },
    { deps: [fanOutTaskRecord, claimRecord] },
  )
  .invalid('slot beyond the fan-out', { ...assignment, slot: 1 }, 'assignment.slot_exceeds_fan_out')
  .invalid('claim hash resolves to a Task', assignment, 'assignment.claim_type', {
    deps: [taskRecord, dep(claimHash, bob, 'Task', task)],
  })
  .fields(assignment, [
    ['attempt 0', 'attempt', 0, 'assignment.attempt_range'],
    ['attempt 17', 'attempt', 17, 'assignment.attempt_range'],
    ['slot 16', 'slot', 16, 'assignment.slot_range'],
    ['slot left out', 'slot', undefined, 'assignment.shape'],
    ['assignee is an action hash', 'assignee', claimHash, 'assignment.assignee_format'],
    [
      'claim with a bad location',
      'claim',
      `${claimHash.slice(0, -1)}${claimHash.endsWith('A') ? 'B' : 'A'}`,
      'assignment.claim_format',
    ],
    ['negative lease expiry', 'lease_expires_at', -1, 'assignment.shape'],
  ])
  .change('update', 'update', assignment, bad('assignment.no_update'), { original: assignmentRecord })
  .change('delete', 'delete', null, bad('assignment.no_delete'), { original: assignmentRecord })

const output = { text: 'Ripple pools peers’ GPUs and CPUs for agents over Holochain.' }
const result: Json = {
  task: taskHash,
  assignment: assignmentHash,
  status: 'ok',
  output_cid: null,
  output_hash: sha256Hex(JSON.stringify(output)),
  error: null,
  metrics: {
    started_at: NOW + 1_000_000,
    finished_at: NOW + 3_500_000,
    duration_ms: 2_500,
    tokens_in: 24,
    tokens_out: 17,
    tokens_per_second: 85.2,
  },
}
const resultHash = action('result-1')
const resultRecord = dep(resultHash, bob, 'Result', result)

const resultCases = new Cases('resource_mesh', 'Result', { author: bob, deps: [assignmentRecord] })
  .valid('ok result by the assignee', result)
  .valid('error result by the assignee', {
    ...result,
    status: 'error',
    error: 'model failed to load: out of VRAM',
  })
  .valid('ok result with its output on IPFS', { ...result, output_cid: cidV1('output') })
  .valid('error result over several lines', {
    ...result,
    status: 'error',
    error: 'model failed to load:\n\tout of VRAM\r\n',
  })
  .unresolved('without its assignment', result, [assignmentHash], { deps: [] })
  .invalid('posted by someone else', result, 'result.author_is_assignee', { author: carol })
  .invalid('posted by the task author', result, 'result.author_is_assignee', { author: alice })
  .invalid('assignment for another task', { ...result, task: otherTaskHash }, 'result.task_mismatch')
  .invalid('assignment hash resolves to a Claim', result, 'result.assignment_type', {
    deps: [dep(assignmentHash, bob, 'Claim', claim)],
  })
  .fields(result, [
    ['the output itself published', 'output', output, 'result.shape'],
    ['malformed output hash', 'output_hash', 'abc123', 'result.output_hash_format'],
    ['finished before it started', 'metrics.finished_at', NOW, 'result.metrics_order'],
    ['tokens above 10^9', 'metrics.tokens_out', 1_000_000_001, 'result.metrics_tokens_out_range'],
    ['unknown status', 'status', 'pending', 'result.shape'],
    ['error message too long', 'error', 'e'.repeat(4097), 'result.error_length'],
    ['error with an escape sequence', 'error', 'failed\u001b[2J', 'result.error_control'],
  ])
  .invalid('error without a message', { ...result, status: 'error' }, 'result.error_required')
  .change('update', 'update', result, bad('result.no_update'), { original: resultRecord })
  .change('delete', 'delete', null, bad('result.no_delete'), { original: resultRecord })

/** A task's input or output as its requester or assignee keeps it (private: on its own chain only). */
const payload: Json = { hash: sha256Hex(JSON.stringify(output)), content: output }
const payloadRecord = dep(action('payload-1'), bob, 'TaskPayload', payload)
const taskPayloadCases = new Cases('resource_mesh', 'TaskPayload', { author: bob })
  .valid("the assignee's output", payload)
  .valid("the requester's input", { hash: task.input_hash, content: taskInput }, { author: alice })
  .fields(payload, [
    ['malformed hash', 'hash', 'abc123', 'task_payload.hash_format'],
    ['content over 2 MiB', 'content', 'x'.repeat(2 * 1024 * 1024), 'task_payload.content_size'],
    ['hash left out', 'hash', undefined, 'task_payload.shape'],
  ])
  .change('update', 'update', payload, bad('task_payload.no_update'), { original: payloadRecord })
  .change('delete', 'delete', null, bad('task_payload.no_delete'), { original: payloadRecord })

const modelHash = sha256Hex('qwen2.5-7b-instruct-q4_k_m.gguf')
const vote = (result: string, assignee: string, group: number | null, agree: boolean): Json => ({
  result,
  assignee,
  model_file_hash: modelHash,
  group,
  similarity: null,
  agree,
})
const receipt: Json = {
  task: taskHash,
  result: resultHash,
  accepted: true,
  reason: '',
  usage: { duration_ms: 2_500, tokens: 41, output_bytes: 71 },
  votes: [vote(resultHash, bob, 0, true)],
}
const receiptRecord = dep(action('receipt-1'), alice, 'Receipt', receipt)
// Fan-out 3: bob and carol agree, mallory answers otherwise; and a result of another task.
const carolResultHash = action('result-carol')
const malloryResultHash = action('result-mallory')
const foreignResultHash = action('result-foreign')
const fanOutDeps = [
  fanOutTaskRecord,
  resultRecord,
  dep(carolResultHash, carol, 'Result', result),
  dep(malloryResultHash, mallory, 'Result', result),
  dep(foreignResultHash, carol, 'Result', { ...result, task: otherTaskHash }),
]
const fanOutReceipt: Json = {
  ...receipt,
  reason: '2 of 3 answers agree',
  usage: { duration_ms: 7_500, tokens: 123, output_bytes: 213 },
  votes: [
    vote(resultHash, bob, 0, true),
    vote(carolResultHash, carol, 0, true),
    vote(malloryResultHash, mallory, 1, false),
  ],
}

const receiptCases = new Cases('resource_mesh', 'Receipt', { deps: [taskRecord, resultRecord] })
  .valid('accepted by the task author', receipt)
  .valid('late result refused', {
    ...receipt,
    accepted: false,
    reason: 'result arrived after the lease expired',
    votes: [vote(resultHash, bob, null, false)],
  })
  .valid('without votes', { ...receipt, votes: [] })
  .valid('fan-out 3: two answers agree, one differs', fanOutReceipt, { deps: fanOutDeps })
  .valid(
    'fan-out 3 of embeddings, with their similarity',
    {
      ...fanOutReceipt,
      votes: [
        { ...vote(resultHash, bob, 0, true), similarity: 1 },
        { ...vote(carolResultHash, carol, 0, true), similarity: 0.991 },
        { ...vote(malloryResultHash, mallory, 1, false), similarity: 0.12 },
      ],
    },
    { deps: fanOutDeps },
  )
  .unresolved('without task and result', receipt, [taskHash, resultHash], { deps: [] })
  .unresolved('without the voted results', fanOutReceipt, [carolResultHash, malloryResultHash], {
    deps: [fanOutTaskRecord, resultRecord],
  })
  .invalid('more votes than the fan-out', fanOutReceipt, 'receipt.votes_exceed_fan_out', {
    deps: [taskRecord, ...fanOutDeps.slice(1)],
  })
  .invalid(
    "a vote for another task's result",
    { ...fanOutReceipt, votes: [vote(resultHash, bob, 0, true), vote(foreignResultHash, carol, 0, true)] },
    'receipt.vote_task_mismatch',
    { deps: fanOutDeps },
  )
  .invalid(
    'a vote that names someone else as the assignee',
    { ...fanOutReceipt, votes: [vote(resultHash, bob, 0, true), vote(carolResultHash, mallory, 0, true)] },
    'receipt.vote_assignee_mismatch',
    { deps: fanOutDeps },
  )
  .invalid(
    'a vote for a hash that resolves to a Claim',
    { ...fanOutReceipt, votes: [vote(resultHash, bob, 0, true), vote(claimHash, bob, 0, true)] },
    'receipt.vote_result_type',
    { deps: [...fanOutDeps, claimRecord] },
  )
  .invalid(
    'two votes for one result',
    { ...fanOutReceipt, votes: [vote(resultHash, bob, 0, true), vote(resultHash, bob, 0, true)] },
    'receipt.votes_result_unique',
    { deps: fanOutDeps },
  )
  .invalid(
    'the chosen result has no vote',
    { ...fanOutReceipt, votes: [vote(carolResultHash, carol, 0, true)] },
    'receipt.result_not_voted',
    { deps: fanOutDeps },
  )
  .invalid(
    "a vote outside the chosen result's group that says it agrees",
    { ...fanOutReceipt, votes: [vote(resultHash, bob, 0, true), vote(malloryResultHash, mallory, 1, true)] },
    'receipt.vote_agree_mismatch',
    { deps: fanOutDeps },
  )
  .invalid(
    'accepted although the chosen result gave no answer',
    { ...receipt, votes: [vote(resultHash, bob, null, false)] },
    'receipt.accepted_without_group',
  )
  .invalid('issued by the assignee', receipt, 'receipt.author_is_task_author', { author: bob })
  .invalid('result for another task', { ...receipt, task: otherTaskHash }, 'receipt.task_mismatch', {
    deps: [dep(otherTaskHash, alice, 'Task', task), resultRecord],
  })
  .invalid('result hash resolves to an Assignment', receipt, 'receipt.result_type', {
    deps: [taskRecord, dep(resultHash, alice, 'Assignment', assignment)],
  })
  .fields(receipt, [
    ['reason with a C1 control', 'reason', 'refused\u0085', 'receipt.reason_control'],
    ['reason of 1025 characters', 'reason', 'r'.repeat(1025), 'receipt.reason_length'],
    ['tokens above 10^9', 'usage.tokens', 1_000_000_001, 'receipt.usage_tokens_range'],
    ['task is an agent key', 'task', alice, 'receipt.task_format'],
    ['accepted is a string', 'accepted', 'yes', 'receipt.shape'],
    ['votes left out', 'votes', undefined, 'receipt.shape'],
    [
      '17 votes',
      'votes',
      Array.from({ length: 17 }, () => vote(resultHash, bob, 0, true)),
      'receipt.votes_count',
    ],
    ['vote group 16', 'votes.0.group', 16, 'receipt.votes_group_range'],
    ['vote similarity above 1', 'votes.0.similarity', 1.5, 'receipt.votes_similarity_range'],
    ['malformed model file hash', 'votes.0.model_file_hash', 'abc', 'receipt.votes_model_file_hash_format'],
    ['vote assignee is an action hash', 'votes.0.assignee', resultHash, 'receipt.votes_assignee_format'],
  ])
  .change('update', 'update', receipt, bad('receipt.no_update'), { original: receiptRecord })
  .change('delete', 'delete', null, bad('receipt.no_delete'), { original: receiptRecord })

const cancellation: Json = { task: taskHash, reason: 'no longer needed' }
const cancellationRecord = dep(action('cancellation-1'), alice, 'Cancellation', cancellation)

const cancellationCases = new Cases('resource_mesh', 'Cancellation', { deps: [taskRecord] })
  .valid('cancelled by the task author', cancellation)
  .unresolved('without its task', cancellation, [taskHash], { deps: [] })
  .invalid('cancelled by another agent', cancellation, 'cancellation.author_is_task_author', { author: bob })
  .invalid('task hash resolves to a Result', cancellation, 'cancellation.task_type', {
    deps: [dep(taskHash, bob, 'Result', result)],
  })
  .fields(cancellation, [
    ['reason with an escape sequence', 'reason', '\u001b[31mno', 'cancellation.reason_control'],
    ['reason of 1025 characters', 'reason', 'r'.repeat(1025), 'cancellation.reason_length'],
    ['task is an entry hash', 'task', holoHash('entry', 'entry:task-1'), 'cancellation.task_format'],
    ['unknown field', 'by', alice, 'cancellation.shape'],
  ])
  .change('update', 'update', cancellation, bad('cancellation.no_update'), { original: cancellationRecord })
  .change('delete', 'delete', null, bad('cancellation.no_delete'), { original: cancellationRecord })

// A request routed straight to its runner: bob answers alice's request, alice records it as served.
const requestHash = sha256Hex('alice asks qwen: hello')
const answer: Json = {
  request: requestHash,
  requester: alice,
  kind: 'infer.generate',
  model: 'qwen2.5-7b-instruct',
  model_file_hash: modelHash,
  status: 'ok',
  output,
  output_hash: sha256Hex(JSON.stringify(output)),
  error: null,
  metrics: result.metrics,
}
const answerHash = action('answer-1')
const answerRecord = dep(answerHash, bob, 'Answer', answer)
const answerCases = new Cases('resource_mesh', 'Answer', { author: bob })
  .valid('ok answer by its runner', answer)
  .valid('ok answer too large to hold inline (the hash names it)', { ...answer, output: null })
  .valid('error answer', { ...answer, status: 'error', output: null, error: 'no free slot' })
  .fields(answer, [
    ['malformed request hash', 'request', 'abc', 'answer.request_format'],
    ['requester not an agent', 'requester', taskHash, 'answer.requester_format'],
    ['malformed model file hash', 'model_file_hash', 'abc', 'answer.model_file_hash_format'],
    ['finished before it started', 'metrics.finished_at', NOW, 'answer.metrics_order'],
  ])
  .invalid('error without a message', { ...answer, status: 'error', output: null }, 'answer.error_required')
  .invalid(
    'error with an output',
    { ...answer, status: 'error', error: 'cut' },
    'answer.error_without_output',
  )
  .change('update', 'update', answer, bad('answer.no_update'), { original: answerRecord })
  .change('delete', 'delete', null, bad('answer.no_delete'), { original: answerRecord })

const served: Json = {
  request: requestHash,
  kind: 'infer.generate',
  model: 'qwen2.5-7b-instruct',
  answer: answerHash,
  runner: bob,
  output_hash: answer.output_hash,
  accepted: true,
  reason: '',
  usage: { duration_ms: 2_500, tokens: 41, output_bytes: 71 },
}
const servedRecord = dep(action('served-1'), alice, 'Served', served)
const servedCases = new Cases('resource_mesh', 'Served', { deps: [answerRecord] })
  .valid('recorded by the requester', served)
  .valid('refused: what was served does not match the answer', {
    ...served,
    output_hash: sha256Hex('something else'),
    accepted: false,
    reason: 'the answer signed by the runner does not match what it served',
  })
  .unresolved('without its answer', served, [answerHash], { deps: [] })
  .invalid('recorded by someone else', served, 'served.author_is_requester', { author: carol })
  .invalid('naming another runner', { ...served, runner: carol }, 'served.runner_is_answer_author')
  .invalid('for another request', { ...served, request: sha256Hex('other') }, 'served.request_mismatch')
  .invalid('for another model', { ...served, model: 'llama-3' }, 'served.kind_model_mismatch')
  .invalid(
    'accepting output the runner did not sign',
    { ...served, output_hash: sha256Hex('something else') },
    'served.output_mismatch',
  )
  .invalid('accepting an error answer', served, 'served.answer_status_mismatch', {
    deps: [dep(answerHash, bob, 'Answer', { ...answer, status: 'error', output: null, error: 'cut' })],
  })
  .fields(served, [
    ['malformed served output hash', 'output_hash', 'abc', 'served.output_hash_format'],
    ['runner not an agent', 'runner', taskHash, 'served.runner_format'],
    ['reason too long', 'reason', 'r'.repeat(5000), 'served.reason_length'],
  ])
  .invalid('answer hash resolves to a Result', served, 'served.answer_type', {
    deps: [dep(answerHash, bob, 'Result', result)],
  })
  .change('update', 'update', served, bad('served.no_update'), { original: servedRecord })
  .change('delete', 'delete', null, bad('served.no_delete'), { original: servedRecord })

// Direct requests in batches: bob (runner) signs one window of answers, carol another of one; alice
// (requester) records what she served, each with the runner's proof.
const window = { opened_at: NOW, closed_at: NOW + 5_000_000 }
const answerLeaf = (request: string, overrides: Partial<AnswerLeaf> = {}): AnswerLeaf => ({
  request,
  requester: alice,
  model: 'qwen2.5-7b-instruct',
  model_file_hash: modelHash,
  status: 'ok',
  output_hash: answer.output_hash as string,
  tokens_in: 12,
  tokens_out: 41,
  started_at: NOW,
  finished_at: NOW + 2_500_000,
  ...overrides,
})
const requestB = sha256Hex('alice asks qwen: and again')
const requestC = sha256Hex('alice asks carol: hello')
const bobLeaves = [
  answerLeaf(requestHash),
  answerLeaf(sha256Hex('carol asks qwen: hi'), { requester: carol, tokens_in: 30, tokens_out: 200 }),
  answerLeaf(requestB, { status: 'error', output_hash: sha256Hex('null'), tokens_out: 0 }),
]
const bobAnswerLeaves = answerLeavesOf(bobLeaves)
const bobBatch: Json = {
  root: bobAnswerLeaves.root,
  leaves: holoHash('entry', 'entry:answer-leaves-bob'),
  totals: bobAnswerLeaves.totals,
  ...window,
}
const bobBatchHash = action('answer-batch-bob')
const bobBatchRecord = dep(bobBatchHash, bob, 'AnswerBatch', bobBatch)
const carolLeaves = [answerLeaf(requestC, { tokens_in: 5, tokens_out: 9 })]
const carolAnswerLeaves = answerLeavesOf(carolLeaves)
const carolBatchHash = action('answer-batch-carol')
const carolBatchRecord = dep(carolBatchHash, carol, 'AnswerBatch', {
  ...bobBatch,
  root: carolAnswerLeaves.root,
  leaves: holoHash('entry', 'entry:answer-leaves-carol'),
  totals: carolAnswerLeaves.totals,
})
const bobPaths = merklePaths(bobLeaves.map(answerLeafBytes))
const proofOf = (batch: string, leaves: AnswerLeaf[], paths: string[][], index: number): LeafProof => ({
  batch,
  leaf: leaves[index]!,
  index,
  count: leaves.length,
  path: paths[index]!,
})
const bobProof = (index: number) => proofOf(bobBatchHash, bobLeaves, bobPaths, index)

const answerLeavesCases = new Cases('resource_mesh', 'AnswerLeaves', { author: bob })
  .valid('three answers, one an error', bobAnswerLeaves)
  .valid('one answer', carolAnswerLeaves)
  .valid(
    'thirteen answers (an unbalanced tree)',
    answerLeavesOf(
      Array.from({ length: 13 }, (_, i) => answerLeaf(sha256Hex(`request ${i}`), { tokens_in: i })),
    ),
  )
  .invalid(
    'count is not the number of leaves',
    withField(bobAnswerLeaves, 'totals.count', 2),
    'answer_leaves.count_mismatch',
  )
  .invalid(
    'leaves do not sum to the totals',
    withField(bobAnswerLeaves, 'totals.tokens_out', 240),
    'answer_leaves.totals_mismatch',
  )
  .invalid(
    'root of the leaves in another order',
    { ...bobAnswerLeaves, root: merkleRoot([...bobLeaves].reverse().map(answerLeafBytes)) },
    'answer_leaves.root_mismatch',
  )
  .invalid(
    'a leaf changed after the root was taken',
    withField(bobAnswerLeaves, 'leaves.1.output_hash', sha256Hex('other')),
    'answer_leaves.root_mismatch',
  )
  .invalid(
    'a leaf that finished before it started',
    withField(bobAnswerLeaves, 'leaves.0.finished_at', NOW - 1),
    'answer_leaves.leaf_order',
  )
  .fields(bobAnswerLeaves, [
    ['uppercase root', 'root', bobAnswerLeaves.root.toUpperCase(), 'answer_leaves.root_format'],
    ['no leaves', 'leaves', [], 'answer_leaves.leaves_count'],
    ['count 0', 'totals.count', 0, 'answer_leaves.totals_count_range'],
    [
      'tokens out above the limit',
      'totals.tokens_out',
      1_000_000_001,
      'answer_leaves.totals_tokens_out_range',
    ],
    ['requester is an action hash', 'leaves.0.requester', taskHash, 'answer_leaves.leaves_requester_format'],
    ['malformed request hash', 'leaves.0.request', 'abc', 'answer_leaves.leaves_request_format'],
    [
      'model with an escape sequence',
      'leaves.0.model',
      'qwen\u001b[2J',
      'answer_leaves.leaves_model_control',
    ],
    [
      'malformed model file hash',
      'leaves.0.model_file_hash',
      'abc',
      'answer_leaves.leaves_model_file_hash_format',
    ],
    ['unknown status', 'leaves.0.status', 'maybe', 'answer_leaves.shape'],
    ['a leaf with a prompt', 'leaves.0.prompt', 'hello', 'answer_leaves.shape'],
  ])
  .change('update', 'update', bobAnswerLeaves, bad('answer_leaves.no_update'), {
    original: dep(action('answer-leaves-bob'), bob, 'AnswerLeaves', bobAnswerLeaves),
  })
  .change('delete', 'delete', null, bad('answer_leaves.no_delete'), {
    original: dep(action('answer-leaves-bob'), bob, 'AnswerLeaves', null),
  })

const answerBatchCases = new Cases('resource_mesh', 'AnswerBatch', { author: bob })
  .valid('the root and totals of a window', bobBatch)
  .valid('a window closed as it opened', { ...bobBatch, closed_at: NOW })
  .invalid('closed before it opened', { ...bobBatch, closed_at: NOW - 1 }, 'answer_batch.window_order')
  .fields(bobBatch, [
    ['malformed root', 'root', 'abc', 'answer_batch.root_format'],
    ['leaves is an action hash', 'leaves', bobBatchHash, 'answer_batch.leaves_format'],
    ['leaves is an agent key', 'leaves', bob, 'answer_batch.leaves_format'],
    ['count 0', 'totals.count', 0, 'answer_batch.totals_count_range'],
    ['count above the batch limit', 'totals.count', 513, 'answer_batch.totals_count_range'],
    ['fractional closed_at', 'closed_at', NOW + 0.5, 'answer_batch.shape'],
    ['the leaves inline', 'entries', bobLeaves, 'answer_batch.shape'],
  ])
  .change('update', 'update', bobBatch, bad('answer_batch.no_update'), { original: bobBatchRecord })
  .change('delete', 'delete', null, bad('answer_batch.no_delete'), { original: bobBatchRecord })

const servedLeaf = (overrides: Partial<ServedLeaf> = {}): ServedLeaf => ({
  request: requestHash,
  runner: bob,
  model: 'qwen2.5-7b-instruct',
  proof: bobProof(0),
  output_hash: answer.output_hash as string,
  accepted: true,
  reason: '',
  ...overrides,
})
const aliceLeaves = [
  servedLeaf(),
  servedLeaf({ request: requestC, runner: carol, proof: proofOf(carolBatchHash, carolLeaves, [[]], 0) }),
  servedLeaf({
    request: requestB,
    proof: bobProof(2),
    output_hash: sha256Hex('null'),
    accepted: false,
    reason: 'the runner answered with an error',
  }),
  servedLeaf({
    request: sha256Hex('alice asks mallory: hello'),
    runner: mallory,
    proof: null,
    accepted: false,
    reason: 'no proof came with the answer',
  }),
]
const aliceServed = servedLeavesOf(aliceLeaves)
/** alice's leaves with the first one changed, root and totals recomputed. */
const aliceWith = (first: Partial<ServedLeaf>) => servedLeavesOf([servedLeaf(first), ...aliceLeaves.slice(1)])
const bothBatches = { deps: [bobBatchRecord, carolBatchRecord] }
const aliceServedRecord = dep(action('served-leaves-alice'), alice, 'ServedLeaves', aliceServed)

const servedLeavesCases = new Cases('resource_mesh', 'ServedLeaves', bothBatches)
  .valid('accepted, an error, and one without a proof, from three runners', aliceServed)
  .valid(
    'refused: the runner signed another output than the one served',
    aliceWith({
      output_hash: sha256Hex('something else'),
      accepted: false,
      reason: 'the runner signed another output',
    }),
  )
  .valid('nothing proven', servedLeavesOf([aliceLeaves[3]!]), { deps: [] })
  .valid('recorded by a member of a network with invites', aliceServed, {
    ...bothBatches,
    ...membrane,
    author: alice,
    authorProof: invitedAs('member'),
  })
  .unresolved(
    'without the runners’ batches (asked for at once)',
    aliceServed,
    [bobBatchHash, carolBatchHash],
    {
      deps: [],
    },
  )
  .unresolved('without one runner’s batch', aliceServed, [carolBatchHash], { deps: [bobBatchRecord] })
  .invalid('recorded by an agent invited as worker', aliceServed, 'served_leaves.author_role', {
    ...bothBatches,
    ...membrane,
    author: carol,
    authorProof: invitedAs('worker'),
  })
  .invalid(
    'count is not the number of leaves',
    withField(aliceServed, 'totals.count', 3),
    'served_leaves.count_mismatch',
  )
  .invalid(
    'totals claim more tokens than the proofs',
    withField(aliceServed, 'totals.tokens_in', 1_000),
    'served_leaves.totals_mismatch',
  )
  .invalid(
    'accepted is not the number accepted',
    { ...aliceServed, accepted: aliceServed.accepted + 1 },
    'served_leaves.accepted_mismatch',
  )
  .invalid(
    'root of other leaves',
    { ...aliceServed, root: bobAnswerLeaves.root },
    'served_leaves.root_mismatch',
  )
  .invalid(
    'accepted without a proof',
    withField(aliceServed, 'leaves.3.accepted', true),
    'served_leaves.proof_required',
  )
  .invalid(
    'not accepted, and no reason',
    withField(aliceServed, 'leaves.2.reason', ''),
    'served_leaves.reason_required',
  )
  .invalid('proof cites a Result', aliceServed, 'served_leaves.batch_type', {
    deps: [dep(bobBatchHash, bob, 'Result', result), carolBatchRecord],
  })
  .invalid('proof cites an Answer', aliceServed, 'served_leaves.batch_type', {
    deps: [dep(bobBatchHash, bob, 'Answer', answer), carolBatchRecord],
  })
  .invalid(
    'naming another runner than the batch’s author',
    aliceWith({ runner: mallory }),
    'served_leaves.runner_is_batch_author',
  )
  .invalid(
    'a proof of another tree size',
    aliceWith({ proof: { ...bobProof(0), count: 4 } }),
    'served_leaves.proof_count_mismatch',
  )
  .invalid(
    'the runner’s leaf is another request',
    aliceWith({ request: sha256Hex('other') }),
    'served_leaves.leaf_request_mismatch',
  )
  .invalid(
    'the runner’s leaf is carol’s request',
    aliceWith({ request: bobLeaves[1]!.request, proof: bobProof(1) }),
    'served_leaves.leaf_request_mismatch',
  )
  .invalid(
    'recorded by someone other than the requester',
    aliceServed,
    'served_leaves.leaf_request_mismatch',
    {
      ...bothBatches,
      author: carol,
    },
  )
  .invalid(
    'the runner’s leaf is on another model',
    aliceWith({ model: 'llama-3' }),
    'served_leaves.leaf_model_mismatch',
  )
  .invalid(
    'a path that does not verify',
    aliceWith({ proof: { ...bobProof(0), path: [...bobProof(0).path].reverse() } }),
    'served_leaves.proof_invalid',
  )
  .invalid(
    'a proof at another index',
    aliceWith({ proof: { ...bobProof(0), index: 1 } }),
    'served_leaves.proof_invalid',
  )
  .invalid(
    'a leaf with more tokens than the runner signed',
    aliceWith({ proof: { ...bobProof(0), leaf: { ...bobLeaves[0]!, tokens_out: 4_100 } } }),
    'served_leaves.proof_invalid',
  )
  .invalid(
    'accepting an error the runner signed',
    servedLeavesOf([aliceLeaves[0]!, { ...aliceLeaves[2]!, accepted: true, reason: '' }]),
    'served_leaves.answer_status_mismatch',
    { deps: [bobBatchRecord] },
  )
  .invalid(
    'accepting an output the runner did not sign',
    aliceWith({ output_hash: sha256Hex('something else') }),
    'served_leaves.output_mismatch',
  )
  .fields(aliceServed, [
    ['malformed root', 'root', 'abc', 'served_leaves.root_format'],
    ['accepted above the batch limit', 'accepted', 513, 'served_leaves.accepted_range'],
    ['runner is an action hash', 'leaves.0.runner', taskHash, 'served_leaves.leaves_runner_format'],
    [
      'malformed served output hash',
      'leaves.0.output_hash',
      'abc',
      'served_leaves.leaves_output_hash_format',
    ],
    ['reason too long', 'leaves.2.reason', 'r'.repeat(1025), 'served_leaves.leaves_reason_length'],
    ['proof batch is an agent key', 'leaves.0.proof.batch', bob, 'served_leaves.leaves_proof_batch_format'],
    ['proof index beyond any batch', 'leaves.0.proof.index', 512, 'served_leaves.leaves_proof_index_range'],
    ['proof count 0', 'leaves.0.proof.count', 0, 'served_leaves.leaves_proof_count_range'],
    [
      'proof path of 17 digests',
      'leaves.0.proof.path',
      Array(17).fill(bobAnswerLeaves.root),
      'served_leaves.leaves_proof_path_count',
    ],
    ['malformed path digest', 'leaves.0.proof.path', ['abc'], 'served_leaves.leaves_proof_path_format'],
    [
      'proof leaf requester is an action hash',
      'leaves.0.proof.leaf.requester',
      taskHash,
      'served_leaves.leaves_proof_leaf_requester_format',
    ],
    [
      'proof leaf finished before it started',
      'leaves.0.proof.leaf.finished_at',
      NOW - 1,
      'served_leaves.leaf_order',
    ],
    ['the output inline', 'leaves.0.output', output, 'served_leaves.shape'],
  ])
  .change('update', 'update', aliceServed, bad('served_leaves.no_update'), { original: aliceServedRecord })
  .change('delete', 'delete', null, bad('served_leaves.no_delete'), { original: aliceServedRecord })

const aliceBatch: Json = {
  root: aliceServed.root,
  leaves: holoHash('entry', 'entry:served-leaves-alice'),
  totals: aliceServed.totals,
  accepted: aliceServed.accepted,
  ...window,
}
const aliceBatchRecord = dep(action('served-batch-alice'), alice, 'ServedBatch', aliceBatch)
const servedBatchCases = new Cases('resource_mesh', 'ServedBatch')
  .valid('the root and totals of what alice served', aliceBatch)
  .valid('none accepted', { ...aliceBatch, accepted: 0 })
  .invalid('recorded by an agent invited as worker', aliceBatch, 'served_batch.author_role', {
    ...membrane,
    author: carol,
    authorProof: invitedAs('worker'),
  })
  .invalid(
    'more accepted than counted',
    { ...aliceBatch, accepted: 5 },
    'served_batch.accepted_exceeds_count',
  )
  .invalid('closed before it opened', { ...aliceBatch, closed_at: NOW - 1 }, 'served_batch.window_order')
  .fields(aliceBatch, [
    ['malformed root', 'root', 'abc', 'served_batch.root_format'],
    ['leaves is an action hash', 'leaves', bobBatchHash, 'served_batch.leaves_format'],
    ['accepted above the batch limit', 'accepted', 513, 'served_batch.accepted_range'],
    ['tokens in above the limit', 'totals.tokens_in', 1_000_000_001, 'served_batch.totals_tokens_in_range'],
    ['negative opened_at', 'opened_at', -1, 'served_batch.shape'],
  ])
  .change('update', 'update', aliceBatch, bad('served_batch.no_update'), { original: aliceBatchRecord })
  .change('delete', 'delete', null, bad('served_batch.no_delete'), { original: aliceBatchRecord })

// policy_store: alice is the progenitor, bob holds a grant from her.

const admins = { properties: { progenitor: alice } }
const bobGrantHash = action('grant-bob')
const bobGrant = dep(bobGrantHash, alice, 'AdminGrant', { agent: bob, granted_by_grant: null })
const carolGrantHash = action('grant-carol')
const carolGrant = dep(carolGrantHash, bob, 'AdminGrant', { agent: carol, granted_by_grant: bobGrantHash })

const policy: Json = {
  id: 'gpu-tasks',
  version: 1,
  text: 'permit(principal, action == Action::"task.claim", resource) when { context.gpu == true };',
  description: 'Any peer may claim GPU tasks.',
  admin_grant: null,
}
const policyRecord = dep(action('policy-1'), alice, 'Policy', policy)

const policyCases = new Cases('policy_store', 'Policy', admins)
  .valid('published by the progenitor', policy)
  .valid('text over several lines with tabs', {
    ...policy,
    text: 'permit(principal, action, resource);\r\nforbid(principal, action, resource)\n\twhen { resource.gpu };',
  })
  .valid(
    'published by a granted admin',
    { ...policy, admin_grant: bobGrantHash },
    { author: bob, deps: [bobGrant] },
  )
  .valid(
    'published by an admin granted by an admin',
    { ...policy, admin_grant: carolGrantHash },
    {
      author: carol,
      deps: [carolGrant],
    },
  )
  .unresolved('granted admin without the grant', { ...policy, admin_grant: bobGrantHash }, [bobGrantHash], {
    author: bob,
  })
  .invalid('network without a progenitor', policy, 'policy.no_progenitor', {
    properties: { progenitor: null },
  })
  .invalid('properties without a progenitor', policy, 'policy.no_progenitor', { properties: {} })
  .invalid('malformed progenitor', policy, 'policy.properties_progenitor_format', {
    properties: { progenitor: 42 },
  })
  .invalid('progenitor is not an agent key', policy, 'policy.properties_progenitor_format', {
    properties: { progenitor: bobGrantHash },
  })
  .invalid('non-admin without a grant', policy, 'policy.author_is_admin', { author: mallory })
  .invalid(
    'cites another agent’s grant',
    { ...policy, admin_grant: bobGrantHash },
    'policy.author_is_admin',
    {
      author: mallory,
      deps: [bobGrant],
    },
  )
  .invalid(
    'grant hash resolves to a Policy',
    { ...policy, admin_grant: bobGrantHash },
    'policy.admin_grant_type',
    {
      author: bob,
      deps: [dep(bobGrantHash, alice, 'Policy', policy)],
    },
  )
  .fields(policy, [
    [
      'text with an escape sequence',
      'text',
      'permit(principal, action, resource);\u001b[2J',
      'policy.text_control',
    ],
    [
      'text with a bidi override',
      'text',
      'permit(principal, action, resource); // \u202e',
      'policy.text_control',
    ],
    ['description over two lines', 'description', 'Any peer\nmay claim', 'policy.description_control'],
    ['id with a space', 'id', 'gpu tasks', 'policy.id_format'],
    ['id of 65 characters', 'id', 'p'.repeat(65), 'policy.id_length'],
    ['version 0', 'version', 0, 'policy.version_range'],
    ['empty text', 'text', '', 'policy.text_length'],
    ['text over 64 Ki characters', 'text', 'x'.repeat(65_537), 'policy.text_length'],
    ['description of 1025 characters', 'description', 'd'.repeat(1025), 'policy.description_length'],
    ['admin grant is an agent key', 'admin_grant', bob, 'policy.admin_grant_format'],
  ])
  .change('new version by the progenitor', 'update', { ...policy, version: 2 }, ok, {
    original: policyRecord,
  })
  .change(
    'new version by a granted admin',
    'update',
    { ...policy, version: 2, admin_grant: bobGrantHash },
    ok,
    {
      author: bob,
      deps: [bobGrant],
      original: policyRecord,
    },
  )
  .change('update by a non-admin', 'update', { ...policy, version: 2 }, bad('policy.author_is_admin'), {
    author: mallory,
    original: policyRecord,
  })
  .change(
    'update that changes the id',
    'update',
    { ...policy, id: 'other', version: 2 },
    bad('policy.update_id'),
    {
      original: policyRecord,
    },
  )
  .change('update that keeps the version', 'update', policy, bad('policy.update_version'), {
    original: policyRecord,
  })
  .change('deleted by the progenitor', 'delete', null, ok, {
    original: dep(action('policy-2'), bob, 'Policy', policy),
  })
  .change('deleted by its author', 'delete', null, ok, {
    author: bob,
    original: dep(action('policy-2'), bob, 'Policy', policy),
  })
  .change('deleted by another agent', 'delete', null, bad('policy.delete_author'), {
    author: mallory,
    original: policyRecord,
  })

const modelAlias: Json = { name: 'coder', targets: ['qwen3-coder-30b', 'qwen3-coder-7b'], admin_grant: null }
const modelAliasRecord = dep(action('alias-1'), alice, 'ModelAlias', modelAlias)

const modelAliasCases = new Cases('policy_store', 'ModelAlias', admins)
  .valid('set by the progenitor', modelAlias)
  .valid(
    'set by a granted admin',
    { ...modelAlias, admin_grant: bobGrantHash },
    { author: bob, deps: [bobGrant] },
  )
  .valid('a pattern for the names an agent sends', { ...modelAlias, name: 'claude-*' })
  .valid('"*" alone: any name', { ...modelAlias, name: '*' })
  .valid('no targets: the alias removed', { ...modelAlias, targets: [] })
  .invalid('set by a non-admin', modelAlias, 'model_alias.author_is_admin', { author: mallory })
  .invalid('network without a progenitor', modelAlias, 'model_alias.no_progenitor', {
    properties: { progenitor: null },
  })
  .invalid('names itself', { ...modelAlias, targets: ['coder'] }, 'model_alias.self_target')
  .invalid('an extra field', { ...modelAlias, weight: 1 }, 'model_alias.shape')
  .fields(modelAlias, [
    ['a "*" inside the name', 'name', 'cl*de', 'model_alias.name_format'],
    ['two "*" at the end', 'name', 'claude-**', 'model_alias.name_format'],
    ['an empty name', 'name', '', 'model_alias.name_length'],
    ['a name of 129 characters', 'name', 'm'.repeat(129), 'model_alias.name_length'],
    ['a name with a newline', 'name', 'cod\ner', 'model_alias.name_control'],
    ['a pattern as a target', 'targets', ['qwen*'], 'model_alias.targets_format'],
    ['an empty target', 'targets', [''], 'model_alias.targets_length'],
    ['a target with an escape sequence', 'targets', ['\u001b[2Jm'], 'model_alias.targets_control'],
    ['a target twice', 'targets', ['m', 'm'], 'model_alias.targets_unique'],
    ['nine targets', 'targets', ['1', '2', '3', '4', '5', '6', '7', '8', '9'], 'model_alias.targets_count'],
    ['admin grant is an agent key', 'admin_grant', bob, 'model_alias.admin_grant_format'],
  ])
  .change('updated', 'update', modelAlias, bad('model_alias.no_update'), { original: modelAliasRecord })
  .change('deleted', 'delete', null, bad('model_alias.no_delete'), { original: modelAliasRecord })

const adminGrant: Json = { agent: bob, granted_by_grant: null }

const adminGrantCases = new Cases('policy_store', 'AdminGrant', admins)
  .valid('granted by the progenitor', adminGrant)
  .valid(
    'granted by a granted admin',
    { agent: carol, granted_by_grant: bobGrantHash },
    { author: bob, deps: [bobGrant] },
  )
  .unresolved(
    'granted by an admin without the grant',
    { agent: carol, granted_by_grant: bobGrantHash },
    [bobGrantHash],
    {
      author: bob,
    },
  )
  .invalid('network without a progenitor', adminGrant, 'admin_grant.no_progenitor', {
    properties: { progenitor: null },
  })
  .invalid(
    'granted by a non-admin',
    { agent: carol, granted_by_grant: null },
    'admin_grant.author_is_admin',
    {
      author: mallory,
    },
  )
  .invalid(
    'cites a grant for someone else',
    { agent: mallory, granted_by_grant: bobGrantHash },
    'admin_grant.author_is_admin',
    {
      author: carol,
      deps: [bobGrant],
    },
  )
  .invalid(
    'grant hash resolves to a Decision',
    { agent: carol, granted_by_grant: bobGrantHash },
    'admin_grant.granted_by_grant_type',
    { author: bob, deps: [dep(bobGrantHash, alice, 'Decision', {})] },
  )
  .invalid('progenitor grants itself', { agent: alice, granted_by_grant: null }, 'admin_grant.self_grant')
  .fields(adminGrant, [
    ['agent is an action hash', 'agent', bobGrantHash, 'admin_grant.agent_format'],
    ['agent key with a bad location', 'agent', badLocation, 'admin_grant.agent_format'],
    ['granted_by_grant is an agent key', 'granted_by_grant', carol, 'admin_grant.granted_by_grant_format'],
    ['granted_by_grant left out', 'granted_by_grant', undefined, 'admin_grant.shape'],
  ])
  .change('update', 'update', adminGrant, bad('admin_grant.no_update'), { original: bobGrant })
  .change('revoked by delete', 'delete', null, bad('admin_grant.no_delete'), { original: bobGrant })

const decision: Json = {
  subject: bob,
  action: 'task.claim',
  resource: taskHash,
  allowed: false,
  policy_ids: ['gpu-tasks'],
  reason: 'the task needs a GPU',
  context: { gpu: true, min_vram_bytes: 6_442_450_944, model: 'qwen2.5-7b-instruct-q4_k_m', region: null },
}
const decisionRecord = dep(action('decision-1'), alice, 'Decision', decision)

const decisionCases = new Cases('policy_store', 'Decision', admins)
  .valid('denial recorded by a peer', decision)
  .valid(
    'allow with no policies and empty context',
    { ...decision, allowed: true, policy_ids: [], context: {} },
    {
      author: mallory,
    },
  )
  .fields(decision, [
    ['reason with an escape sequence', 'reason', 'denied\u001b[1A', 'decision.reason_control'],
    ['resource with a newline', 'resource', 'Task::"x"\n', 'decision.resource_control'],
    ['context value with DEL', 'context', { model: 'qwen\u007f' }, 'decision.context_value_control'],
    ['subject is an action hash', 'subject', taskHash, 'decision.subject_format'],
    ['action with a space', 'action', 'task claim', 'decision.action_format'],
    ['empty resource', 'resource', '', 'decision.resource_length'],
    [
      '33 policy ids',
      'policy_ids',
      Array.from({ length: 33 }, (_, i) => `p${i}`),
      'decision.policy_ids_count',
    ],
    ['policy id with capitals', 'policy_ids', ['GPU'], 'decision.policy_ids_format'],
    ['reason of 1025 characters', 'reason', 'r'.repeat(1025), 'decision.reason_length'],
    ['context value is an object', 'context', { nested: { a: 1 } }, 'decision.context_value_format'],
    [
      'context value of 257 characters',
      'context',
      { note: 'v'.repeat(257) },
      'decision.context_value_length',
    ],
    ['empty context key', 'context', { '': 1 }, 'decision.context_key_length'],
    [
      'context with 33 keys',
      'context',
      Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])),
      'decision.context_count',
    ],
  ])
  .change('update', 'update', decision, bad('decision.no_update'), { original: decisionRecord })
  .change('delete', 'delete', null, bad('decision.no_delete'), { original: decisionRecord })

// artifact_index

const artifactCid = cidV1('summary.json contents')
const artifact: Json = {
  cid: artifactCid,
  size: 71,
  name: 'summary.json',
  mime_type: 'application/json',
  sha256: sha256Hex('summary.json contents'),
  provenance: {
    task: taskHash,
    result: resultHash,
    input_cids: [cidV1('design.md'), cidV0('notes.txt')],
    tool: 'infer.generate',
    model: 'qwen2.5-7b-instruct-q4_k_m',
  },
  replication: 3,
}
const artifactHash = action('artifact-1')
const artifactRecord = dep(artifactHash, alice, 'Artifact', artifact)

const artifactCases = new Cases('artifact_index', 'Artifact')
  .valid('output of a task', artifact)
  .valid('uploaded file with a CIDv0', {
    ...artifact,
    cid: cidV0('photo'),
    mime_type: 'image/jpeg',
    provenance: { task: null, result: null, input_cids: [], tool: 'upload', model: null },
  })
  .fields(artifact, [
    ['name with an escape sequence', 'name', 'summary\u001b[2J.json', 'artifact.name_control'],
    ['tool with a newline', 'provenance.tool', 'upload\n', 'artifact.provenance_tool_control'],
    ['CID with uppercase', 'cid', artifactCid.toUpperCase(), 'artifact.cid_format'],
    ['CIDv0 too short', 'cid', 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPb', 'artifact.cid_format'],
    ['size beyond 2^53-1', 'size', MAX_SAFE + 1, 'artifact.size_range'],
    ['empty name', 'name', '', 'artifact.name_length'],
    ['MIME type without a slash', 'mime_type', 'json', 'artifact.mime_type_format'],
    ['sha256 of 63 characters', 'sha256', sha256Hex('x').slice(1), 'artifact.sha256_format'],
    ['result without task', 'provenance.task', null, 'artifact.provenance_result_without_task'],
    [
      '65 input CIDs',
      'provenance.input_cids',
      Array.from({ length: 65 }, (_, i) => cidV1(`in${i}`)),
      'artifact.provenance_input_cids_count',
    ],
    ['malformed input CID', 'provenance.input_cids', ['ipfs://x'], 'artifact.provenance_input_cids_format'],
    ['empty tool', 'provenance.tool', '', 'artifact.provenance_tool_length'],
    ['replication 0', 'replication', 0, 'artifact.replication_range'],
    ['replication 17', 'replication', 17, 'artifact.replication_range'],
  ])
  .change('update', 'update', artifact, bad('artifact.no_update'), { original: artifactRecord })
  .change('deleted by its author', 'delete', null, ok, { original: artifactRecord })
  .change('deleted by another agent', 'delete', null, bad('artifact.delete_author'), {
    author: bob,
    original: artifactRecord,
  })

const pin: Json = { cid: artifactCid, artifact: artifactHash, holder: bob }
const pinRecord = dep(action('pin-bob'), bob, 'PinCommitment', pin)

const pinCases = new Cases('artifact_index', 'PinCommitment', { author: bob, deps: [artifactRecord] })
  .valid('holder commits to pin', pin)
  .unresolved('without its artifact', pin, [artifactHash], { deps: [] })
  .invalid('holder is not the author', pin, 'pin_commitment.holder_is_author', { author: carol })
  .invalid('CID differs from the artifact', { ...pin, cid: cidV1('other') }, 'pin_commitment.cid_mismatch')
  .invalid('artifact hash resolves to a Task', pin, 'pin_commitment.artifact_type', {
    deps: [dep(artifactHash, alice, 'Task', task)],
  })
  .fields(pin, [
    ['malformed CID', 'cid', 'bafy', 'pin_commitment.cid_format'],
    ['artifact is an agent key', 'artifact', alice, 'pin_commitment.artifact_format'],
    ['holder is an action hash', 'holder', artifactHash, 'pin_commitment.holder_format'],
    ['holder left out', 'holder', undefined, 'pin_commitment.shape'],
  ])
  .change('released by the holder', 'delete', null, ok, { original: pinRecord })
  .change('released by another agent', 'delete', null, bad('pin_commitment.delete_author'), {
    author: carol,
    original: pinRecord,
  })
  .change('update', 'update', pin, bad('pin_commitment.no_update'), { original: pinRecord })

// memory_shards

const collection: Json = {
  name: 'docs',
  dimension: 768,
  metric: 'cosine',
  shard_count: 4,
  replication: 2,
  embedding_model: 'nomic-embed-text-v1.5',
}
const collectionHash = action('collection-docs')
const collectionRecord = dep(collectionHash, alice, 'Collection', collection)

const collectionCases = new Cases('memory_shards', 'Collection')
  .valid('cosine collection', collection)
  .valid('single-shard l2 collection', { ...collection, name: 'scratch_1', metric: 'l2', shard_count: 1 })
  .fields(collection, [
    [
      'embedding model with an escape sequence',
      'embedding_model',
      'nomic\u001b[2J',
      'collection.embedding_model_control',
    ],
    ['name with a space', 'name', 'my docs', 'collection.name_format'],
    ['name of 65 characters', 'name', 'c'.repeat(65), 'collection.name_length'],
    ['dimension 0', 'dimension', 0, 'collection.dimension_range'],
    ['dimension 8193', 'dimension', 8193, 'collection.dimension_range'],
    ['unknown metric', 'metric', 'dot', 'collection.shape'],
    ['1025 shards', 'shard_count', 1025, 'collection.shard_count_range'],
    ['replication 0', 'replication', 0, 'collection.replication_range'],
    ['empty embedding model', 'embedding_model', '', 'collection.embedding_model_length'],
  ])
  .change('update', 'update', collection, bad('collection.no_update'), { original: collectionRecord })
  .change('deleted by its author', 'delete', null, ok, { original: collectionRecord })
  .change('deleted by another agent', 'delete', null, bad('collection.delete_author'), {
    author: bob,
    original: collectionRecord,
  })

const holder: Json = { collection: collectionHash, shard: 3, holder: bob }
const holderRecord = dep(action('holder-bob-3'), bob, 'ShardHolder', holder)

const holderCases = new Cases('memory_shards', 'ShardHolder', { author: bob, deps: [collectionRecord] })
  .valid('holder of the last shard', holder)
  .unresolved('without its collection', holder, [collectionHash], { deps: [] })
  .invalid('holder is not the author', holder, 'shard_holder.holder_is_author', { author: carol })
  .invalid('shard beyond shard_count', { ...holder, shard: 4 }, 'shard_holder.shard_out_of_range')
  .invalid('collection hash resolves to a ShardSnapshot', holder, 'shard_holder.collection_type', {
    deps: [dep(collectionHash, alice, 'ShardSnapshot', {})],
  })
  .fields(holder, [
    ['shard 1024', 'shard', 1024, 'shard_holder.shard_range'],
    ['collection is an agent key', 'collection', alice, 'shard_holder.collection_format'],
    ['holder is not base64url', 'holder', 'uhCAk+/+/', 'shard_holder.holder_format'],
    ['negative shard', 'shard', -1, 'shard_holder.shape'],
  ])
  .change('left by the holder', 'delete', null, ok, { original: holderRecord })
  .change('removed by another agent', 'delete', null, bad('shard_holder.delete_author'), {
    author: carol,
    original: holderRecord,
  })
  .change('update', 'update', holder, bad('shard_holder.no_update'), { original: holderRecord })

const snapshotEntry: Json = {
  collection: collectionHash,
  shard: 0,
  cid: cidV1('shard 0 contents'),
  doc_count: 12_345,
  taken_at: NOW,
}
const snapshotRecord = dep(action('snapshot-0'), bob, 'ShardSnapshot', snapshotEntry)

const snapshotCases = new Cases('memory_shards', 'ShardSnapshot', { author: bob, deps: [collectionRecord] })
  .valid('snapshot of shard 0', snapshotEntry)
  .unresolved('without its collection', snapshotEntry, [collectionHash], { deps: [] })
  .invalid('shard beyond shard_count', { ...snapshotEntry, shard: 7 }, 'shard_snapshot.shard_out_of_range')
  .invalid('collection hash resolves to a ShardHolder', snapshotEntry, 'shard_snapshot.collection_type', {
    deps: [dep(collectionHash, bob, 'ShardHolder', holder)],
  })
  .fields(snapshotEntry, [
    ['malformed CID', 'cid', 'Qm123', 'shard_snapshot.cid_format'],
    ['doc count above 2^32-1', 'doc_count', 4_294_967_296, 'shard_snapshot.doc_count_range'],
    ['fractional taken_at', 'taken_at', 1.5, 'shard_snapshot.shape'],
    ['shard 1024', 'shard', 1024, 'shard_snapshot.shard_range'],
    ['collection is a DNA hash', 'collection', holoHash('dna', 'dna:x'), 'shard_snapshot.collection_format'],
  ])
  .change('update', 'update', snapshotEntry, bad('shard_snapshot.no_update'), { original: snapshotRecord })
  .change('deleted by its author', 'delete', null, ok, { original: snapshotRecord })
  .change('deleted by another agent', 'delete', null, bad('shard_snapshot.delete_author'), {
    author: carol,
    original: snapshotRecord,
  })

const files: Record<DnaName, Cases[]> = {
  agent_registry: [nodeCapability, unknownDna, membraneCases, revocationCases, legacySealCases],
  resource_mesh: [
    taskCases,
    claimCases,
    assignmentCases,
    resultCases,
    receiptCases,
    cancellationCases,
    answerCases,
    servedCases,
    answerLeavesCases,
    answerBatchCases,
    servedLeavesCases,
    servedBatchCases,
    taskPayloadCases,
  ],
  policy_store: [policyCases, adminGrantCases, decisionCases, modelAliasCases],
  artifact_index: [artifactCases, pinCases],
  memory_shards: [collectionCases, holderCases, snapshotCases],
}

const written = Object.entries(files).map(([dna, cases]) => {
  const vectors = cases.flatMap((c) => c.vectors)
  const path = fileURLToPath(new URL(`./${dna}.json`, import.meta.url))
  writeFileSync(path, JSON.stringify(vectors))
  console.log(`${dna}.json: ${vectors.length} vectors`)
  return path
})
// Laid out as the repo's formatter wants, so `biome check` passes on freshly generated files.
execFileSync(
  fileURLToPath(new URL('../../node_modules/.bin/biome', import.meta.url)),
  ['format', '--write', ...written],
  {
    stdio: 'ignore',
  },
)
