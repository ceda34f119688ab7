import { readFileSync } from 'node:fs'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import {
  ActionHashB64Schema,
  AgentPubKeyB64Schema,
  CidSchema,
  contract,
  DNA_NAMES,
  type DnaName,
  type EntryOf,
  HeartbeatSchema,
  NodeCapabilitySchema,
  TaskSchema,
  type ZomeFnName,
  type ZomeInput,
  type ZomeOutput,
} from '../../../zomes-bindings/index.ts'

// Real HoloHashB64 values (from tests/vectors): an agent key and an action hash.
const vectors = JSON.parse(
  readFileSync(new URL('../../vectors/resource_mesh.json', import.meta.url), 'utf8'),
) as {
  input: { author: string; entry: { task?: string } | null }
}[]
const agentKey = vectors[0]!.input.author
const actionHash = vectors.find((v) => v.input.entry?.task)!.input.entry!.task!

const EXPECTED_FUNCTIONS: Record<DnaName, string[]> = {
  agent_registry: [
    'advertise_capability',
    'get_capability',
    'list_nodes',
    'find_nodes_by_tag',
    'revoke',
    'list_revocations',
    'seal_legacy_invites',
    'list_legacy_seals',
  ],
  resource_mesh: [
    'submit_task',
    'claim_task',
    'assign_task',
    'post_result',
    'issue_receipt',
    'cancel_task',
    'list_open_tasks',
    'list_tasks',
    'get_task_state',
    'post_answer_batch',
    'record_served_batch',
    'get_served',
    'list_own_windows',
    'get_answer_batch',
    'keep_payload',
    'get_payload',
  ],
  policy_store: [
    'publish_policy',
    'list_policies',
    'grant_admin',
    'list_admins',
    'record_decision',
    'list_decisions',
    'publish_model_alias',
    'list_model_aliases',
  ],
  artifact_index: [
    'register_artifact',
    'get_artifact',
    'list_artifacts',
    'commit_pin',
    'release_pin',
    'list_pin_holders',
  ],
  memory_shards: [
    'create_collection',
    'list_collections',
    'announce_shard_holder',
    'list_shard_holders',
    'publish_snapshot',
    'get_latest_snapshot',
  ],
}

describe('contract', () => {
  it('covers the five DNAs', () => {
    expect(Object.keys(contract)).toEqual([...DNA_NAMES])
  })

  it.each(DNA_NAMES)('%s: every function has input and output schemas', (dna) => {
    const { functions, entryTypes, linkTypes } = contract[dna]
    expect(Object.keys(functions)).toEqual(EXPECTED_FUNCTIONS[dna])
    for (const fn of Object.values(functions)) {
      expect(fn.input).toBeInstanceOf(z.ZodType)
      expect(fn.output).toBeInstanceOf(z.ZodType)
    }
    expect(Object.keys(entryTypes).length).toBeGreaterThan(0)
    expect(linkTypes.length).toBeGreaterThan(0)
  })

  it('names the entry types of design section 3', () => {
    expect(Object.fromEntries(DNA_NAMES.map((d) => [d, Object.keys(contract[d].entryTypes)]))).toEqual({
      agent_registry: ['NodeCapability', 'Revocation', 'LegacySeal'],
      resource_mesh: [
        'Task',
        'Claim',
        'Assignment',
        'Result',
        'Receipt',
        'Cancellation',
        'Answer',
        'Served',
        'AnswerLeaves',
        'AnswerBatch',
        'ServedLeaves',
        'ServedBatch',
        'TaskPayload',
      ],
      policy_store: ['Policy', 'AdminGrant', 'Decision', 'ModelAlias'],
      artifact_index: ['Artifact', 'PinCommitment'],
      memory_shards: ['Collection', 'ShardHolder', 'ShardSnapshot'],
    })
  })

  it('gives readable errors that name the field', () => {
    const result = NodeCapabilitySchema.safeParse({ name: '' })
    expect(result.success).toBe(false)
    const pretty = z.prettifyError(result.error!)
    expect(pretty).toContain('must be 1..64 characters')
    expect(pretty).toContain('→ at hardware')

    const cores = TaskSchema.safeParse({
      kind: 'Echo',
      input: { x: 1 },
      input_cid: null,
      requirements: { min_ram_bytes: 0, min_vram_bytes: 0, gpu: false, min_cores: -1, model: null, tags: [] },
      lease_ms: 60_000,
      deadline: 0,
      max_attempts: 1,
      fan_out: 1,
    })
    const messages = cores.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
    expect(messages).toContain('kind: must be a dotted lowercase identifier like "infer.generate"')
    expect(messages.some((m) => m.startsWith('requirements.min_cores: Too small'))).toBe(true)
  })

  it('checks HoloHash prefixes and DHT location bytes', () => {
    expect(AgentPubKeyB64Schema.safeParse(agentKey).success).toBe(true)
    expect(ActionHashB64Schema.safeParse(actionHash).success).toBe(true)
    // Valid hashes are remembered per kind: one found valid as an agent key is still no action hash.
    expect(AgentPubKeyB64Schema.safeParse(agentKey).success).toBe(true)
    expect(ActionHashB64Schema.safeParse(agentKey).success).toBe(false)
    expect(AgentPubKeyB64Schema.safeParse(actionHash).error?.issues[0]?.message).toBe(
      'agent hash has the wrong type prefix (agent hashes start with "uhCAk")',
    )
    const flipped = `${agentKey.slice(0, -1)}${agentKey.endsWith('A') ? 'B' : 'A'}`
    expect(AgentPubKeyB64Schema.safeParse(flipped).error?.issues[0]?.message).toBe(
      'agent hash has wrong DHT location bytes',
    )
    expect(AgentPubKeyB64Schema.safeParse('uhCAk').success).toBe(false)
  })

  it('accepts Kubo-style CIDs only', () => {
    expect(CidSchema.safeParse('QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG').success).toBe(true)
    expect(CidSchema.safeParse('bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku').success).toBe(
      true,
    )
    expect(CidSchema.safeParse('ipfs://bafy').success).toBe(false)
  })

  it('has heartbeats as signals, not entries', () => {
    expect(Object.keys(contract.agent_registry.entryTypes)).not.toContain('Heartbeat')
    const beat = {
      cpu_pct: 12.5,
      ram_pct: 40,
      gpu_pct: null,
      queue_depth: 0,
      timestamp: 1_763_700_000_000_000,
    }
    expect(HeartbeatSchema.parse(beat)).toEqual(beat)
    expect(HeartbeatSchema.safeParse({ ...beat, cpu_pct: 101 }).success).toBe(false)
  })

  it('applies input defaults and keeps types precise', () => {
    const input: ZomeInput<'policy_store', 'list_decisions'> = {}
    expect(contract.policy_store.functions.list_decisions.input.parse(input)).toEqual({
      subject: null,
      resource: null,
      limit: 100,
    })
    expectTypeOf<ZomeFnName<'agent_registry'>>().toEqualTypeOf<
      | 'advertise_capability'
      | 'get_capability'
      | 'list_nodes'
      | 'find_nodes_by_tag'
      | 'revoke'
      | 'list_revocations'
      | 'seal_legacy_invites'
      | 'list_legacy_seals'
    >()
    expectTypeOf<ZomeInput<'resource_mesh', 'list_open_tasks'>>().toEqualTypeOf<null>()
    expectTypeOf<ZomeOutput<'resource_mesh', 'get_task_state'>>().toMatchTypeOf<{ status: string } | null>()
    expectTypeOf<EntryOf<'resource_mesh', 'Result'>['status']>().toEqualTypeOf<'ok' | 'error'>()
  })
})
