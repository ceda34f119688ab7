/**
 * Where each kind of record lives (design 4e, issue 57). `everywhere`: what every peer must check of
 * every other (who is a member, who was revoked, what the admins decided for the whole mesh); it grows
 * with members, not with time, and every peer stores and validates all of it. `neighbourhood`: what
 * grows with time or traffic (cover and batches every slot, tasks and their life, artifact and memory
 * records, the audit trail); held, validated and served by the R members closest to its basis
 * (op-holders.ts), everyone while the mesh has R members or fewer.
 *
 * Both tables are typed by the contract, so a new entry or link type does not compile until it is
 * placed here. Not in them: the genesis actions (the DNA action, the membrane proof carrying the invite,
 * its grant and its witnessed admission, the agent key), which are membership and so everywhere; and
 * agent activity (chain continuity, forks) of every action, which is checked by the neighbourhood of
 * its author's key (Holochain's agent-activity authorities).
 */
import type { DnaName, EntryTypeName, LinkTypeName } from '../../../../zomes-bindings/index.ts'

export type RecordScope = 'everywhere' | 'neighbourhood'

export interface Placement {
  scope: RecordScope
  /** Why it lives there, in a few words (the record page's table says it). */
  why: string
}

const MEMBERSHIP: Placement = {
  scope: 'everywhere',
  why: "who is a member: every peer checks every other's ops against it",
}
const ADMINS: Placement = {
  scope: 'everywhere',
  why: "who may write the mesh's policies and settings: the rules of those check it",
}
const POLICY: Placement = {
  scope: 'everywhere',
  why: 'what every peer decides by, the same way everywhere',
}
const SETTING: Placement = {
  scope: 'everywhere',
  why: 'a setting of the whole mesh, written by an admin',
}
const TASKS: Placement = {
  scope: 'neighbourhood',
  why: 'a task and its life: one per task, so grows with traffic',
}
const SERVED: Placement = {
  scope: 'neighbourhood',
  why: 'batches and their cover, every slot of every member: grows with time',
}
const CAPABILITY: Placement = {
  scope: 'neighbourhood',
  why: 'read, never checked, by others; updated as models load (runners are found by the directory)',
}
const AUDIT: Placement = {
  scope: 'neighbourhood',
  why: 'the audit trail of decisions: grows with traffic',
}
const ARTIFACTS: Placement = {
  scope: 'neighbourhood',
  why: 'one per artifact and pin: grows with what the mesh stores',
}
const MEMORY: Placement = {
  scope: 'neighbourhood',
  why: 'collections, their holders and snapshots: grow with what the mesh remembers',
}

type EntryScopes = { readonly [D in DnaName]: Readonly<Record<EntryTypeName<D>, Placement>> }
type LinkScopes = { readonly [D in DnaName]: Readonly<Record<LinkTypeName<D>, Placement>> }

export const ENTRY_SCOPES = {
  agent_registry: {
    NodeCapability: CAPABILITY,
    Revocation: MEMBERSHIP,
    LegacySeal: MEMBERSHIP,
  },
  resource_mesh: {
    Task: TASKS,
    Claim: TASKS,
    Assignment: TASKS,
    Result: TASKS,
    Receipt: TASKS,
    Cancellation: TASKS,
    TaskPayload: TASKS,
    Answer: SERVED,
    Served: SERVED,
    AnswerLeaves: SERVED,
    AnswerBatch: SERVED,
    ServedLeaves: SERVED,
    ServedBatch: SERVED,
  },
  policy_store: {
    Policy: POLICY,
    AdminGrant: ADMINS,
    Decision: AUDIT,
    ModelAlias: SETTING,
  },
  artifact_index: {
    Artifact: ARTIFACTS,
    PinCommitment: ARTIFACTS,
  },
  memory_shards: {
    Collection: MEMORY,
    ShardHolder: MEMORY,
    ShardSnapshot: MEMORY,
  },
} as const satisfies EntryScopes

/** A link lives with the records it lists: an anchor of everywhere records is everywhere. */
export const LINK_SCOPES = {
  agent_registry: {
    AllNodes: CAPABILITY,
    AgentToCapability: CAPABILITY,
    TagToAgent: CAPABILITY,
    AllRevocations: MEMBERSHIP,
    AllLegacySeals: MEMBERSHIP,
  },
  resource_mesh: {
    OpenTasks: TASKS,
    TaskToClaims: TASKS,
    TaskToAssignments: TASKS,
    TaskToResults: TASKS,
    TaskToReceipt: TASKS,
    TaskToCancellation: TASKS,
    AgentToAssignments: TASKS,
    ServedRequests: SERVED,
  },
  policy_store: {
    AllPolicies: POLICY,
    PolicyIdToPolicy: POLICY,
    AllAdmins: ADMINS,
    SubjectToDecisions: AUDIT,
    AllDecisions: AUDIT,
    AllModelAliases: SETTING,
  },
  artifact_index: {
    AllArtifacts: ARTIFACTS,
    CidToArtifact: ARTIFACTS,
    ArtifactToPins: ARTIFACTS,
    AgentToPins: ARTIFACTS,
  },
  memory_shards: {
    AllCollections: MEMORY,
    CollectionToHolders: MEMORY,
    ShardToSnapshots: MEMORY,
  },
} as const satisfies LinkScopes

/** Where records of entry type `entryType` of `dna` live; undefined for a type the contract lacks. */
export function entryScope(dna: DnaName, entryType: string): RecordScope | undefined {
  return placementIn(ENTRY_SCOPES[dna], entryType)?.scope
}

/** Where links of `linkType` of `dna` live; undefined for a type the contract lacks. */
export function linkScope(dna: DnaName, linkType: string): RecordScope | undefined {
  return placementIn(LINK_SCOPES[dna], linkType)?.scope
}

const placementIn = (table: Readonly<Record<string, Placement>>, name: string): Placement | undefined =>
  Object.hasOwn(table, name) ? table[name] : undefined
