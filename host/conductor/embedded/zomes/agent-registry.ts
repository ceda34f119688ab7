/**
 * agent_registry coordinator: each agent keeps one NodeCapability (created once, updated after) and
 * links it where others look: the all-nodes anchor -> agent, agent -> capability, tag anchor -> agent.
 * Readers only trust links an agent wrote about itself, so nobody can list or tag someone else.
 * Revocations and seals of legacy invites are filed under an anchor each; who may write one is the
 * rules' call (admins).
 */
import type { Link } from '@holochain/client'
import type { EntryRecord, LegacySeal, NodeCapability, Revocation } from '../../../../zomes-bindings/index.ts'
import { encodeCanonical } from '../../../identity/canonical.ts'
import { decodeHashB64, encodeHashB64, hashesEqual } from '../../../identity/hash.ts'
import { entryHashOf } from '../action.ts'
import { RecordNotFoundError } from '../errors.ts'
import type { Hdk } from '../hdk.ts'
import type { CoordinatorZome } from './coordinator-zome.ts'
import { createUnderAnchor, linkedRecords, toEntryRecord, toRecordRef } from './entry-record.ts'

const ALL_NODES = 'all_nodes'
const ALL_REVOCATIONS = 'all_revocations'
const ALL_LEGACY_SEALS = 'all_legacy_seals'
const tagAnchor = (tag: string) => `tag:${tag}`

export const agentRegistryZome: CoordinatorZome<'agent_registry'> = {
  advertise_capability(hdk, capability) {
    const me = hdk.agent_info().agent_initial_pubkey
    const original = ownCapabilityLink(hdk, me)?.target
    if (original === undefined) {
      const actionHash = hdk.create_entry('NodeCapability', capability)
      hdk.create_link(hdk.anchor(ALL_NODES), me, 'AllNodes')
      hdk.create_link(me, actionHash, 'AgentToCapability')
      for (const tag of capability.tags) linkTag(hdk, me, tag)
      return toRecordRef(hdk.get(actionHash)!)
    }
    const latest = hdk.get_latest(original)
    if (latest === null)
      throw new RecordNotFoundError('this agent deleted its capability; it cannot be updated')
    const ref = toRecordRef(latest)
    // Re-advertising what is already there writes nothing: chains grow only when something changed.
    if (ref.entry_hash === encodeHashB64(entryHashOf(encodeCanonical(capability)))) return ref
    const previous = hdk.entry_of<NodeCapability>(latest)!
    const actionHash = hdk.update_entry(latest.signed_action.hashed.hash, capability)
    for (const tag of previous.tags) if (!capability.tags.includes(tag)) unlinkTag(hdk, me, tag)
    for (const tag of capability.tags) if (!previous.tags.includes(tag)) linkTag(hdk, me, tag)
    return toRecordRef(hdk.get(actionHash)!)
  },

  get_capability(hdk, agent) {
    return capabilityOf(hdk, decodeHashB64(agent, 'agent'))
  },

  list_nodes(hdk) {
    return capabilitiesOf(hdk, selfLinks(hdk.get_links(hdk.anchor(ALL_NODES), 'AllNodes')))
  },

  find_nodes_by_tag(hdk, tag) {
    const agents = selfLinks(hdk.get_links(hdk.anchor(tagAnchor(tag)), 'TagToAgent'))
    // A tag link can outlive the tag for an instant between two writes; the entry has the last word.
    return capabilitiesOf(hdk, agents).filter((record) => record.entry.tags.includes(tag))
  },

  revoke(hdk, revocation) {
    return createUnderAnchor(hdk, ALL_REVOCATIONS, 'Revocation', revocation, 'AllRevocations')
  },

  list_revocations(hdk) {
    return linkedRecords<Revocation>(hdk, hdk.anchor(ALL_REVOCATIONS), 'AllRevocations', 'Revocation')
  },

  seal_legacy_invites(hdk, seal) {
    return createUnderAnchor(hdk, ALL_LEGACY_SEALS, 'LegacySeal', seal, 'AllLegacySeals')
  },

  list_legacy_seals(hdk) {
    return linkedRecords<LegacySeal>(hdk, hdk.anchor(ALL_LEGACY_SEALS), 'AllLegacySeals', 'LegacySeal')
  },
}

/** The agent's own agent -> capability link (the first, if a replica ever holds more). */
function ownCapabilityLink(hdk: Hdk, agent: Uint8Array): Link | undefined {
  return hdk.get_links(agent, 'AgentToCapability').find((link) => hashesEqual(link.author, agent))
}

function capabilityOf(hdk: Hdk, agent: Uint8Array): EntryRecord<NodeCapability> | null {
  const link = ownCapabilityLink(hdk, agent)
  const latest = link && hdk.get_latest(link.target)
  return latest ? toEntryRecord<NodeCapability>(hdk, latest) : null
}

/** Agents that linked themselves, each once, oldest link first. */
function selfLinks(links: Link[]): Uint8Array[] {
  const seen = new Set<string>()
  const agents: Uint8Array[] = []
  for (const link of links) {
    const key = encodeHashB64(link.target)
    if (!hashesEqual(link.author, link.target) || seen.has(key)) continue
    seen.add(key)
    agents.push(link.target)
  }
  return agents
}

function capabilitiesOf(hdk: Hdk, agents: Uint8Array[]): EntryRecord<NodeCapability>[] {
  return agents.flatMap((agent) => capabilityOf(hdk, agent) ?? [])
}

function linkTag(hdk: Hdk, me: Uint8Array, tag: string): void {
  hdk.create_link(hdk.anchor(tagAnchor(tag)), me, 'TagToAgent', new TextEncoder().encode(tag))
}

function unlinkTag(hdk: Hdk, me: Uint8Array, tag: string): void {
  for (const link of hdk.get_links(hdk.anchor(tagAnchor(tag)), 'TagToAgent')) {
    if (hashesEqual(link.author, me) && hashesEqual(link.target, me)) hdk.delete_link(link.create_link_hash)
  }
}
