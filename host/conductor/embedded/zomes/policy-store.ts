/**
 * policy_store coordinator: policies (a new version of an id updates the latest one, so the rules
 * check that it keeps the id and raises the version), admin grants, and the audit trail of decisions.
 * Who may write a Policy or an AdminGrant is the rules' call (the progenitor, or an agent whose grant
 * the entry cites); this zome only files records where readers look for them. Model aliases are
 * append-only: the latest entry of a name is the alias, one naming no models removes it.
 */
import type {
  AdminGrant,
  Decision,
  EntryRecord,
  ModelAlias,
  Policy,
} from '../../../../zomes-bindings/index.ts'
import { decodeHashB64 } from '../../../identity/hash.ts'
import type { CoordinatorZome } from './coordinator-zome.ts'
import { createUnderAnchor, linkedRecords, toRecordRef } from './entry-record.ts'

const ALL_POLICIES = 'all_policies'
const ALL_ADMINS = 'all_admins'
const ALL_DECISIONS = 'all_decisions'
const ALL_MODEL_ALIASES = 'all_model_aliases'
const policyAnchor = (id: string) => `policy:${id}`

export const policyStoreZome: CoordinatorZome<'policy_store'> = {
  publish_policy(hdk, policy) {
    const current = latestPerId(
      linkedRecords<Policy>(hdk, hdk.anchor(policyAnchor(policy.id)), 'PolicyIdToPolicy', 'Policy'),
    )
    const previous = current.get(policy.id)
    const hash = previous
      ? hdk.update_entry(decodeHashB64(previous.action_hash, 'action'), policy)
      : hdk.create_entry('Policy', policy)
    hdk.create_link(hdk.anchor(ALL_POLICIES), hash, 'AllPolicies')
    hdk.create_link(hdk.anchor(policyAnchor(policy.id)), hash, 'PolicyIdToPolicy')
    return toRecordRef(hdk.get(hash)!)
  },

  list_policies(hdk) {
    const latest = latestPerId(linkedRecords<Policy>(hdk, hdk.anchor(ALL_POLICIES), 'AllPolicies', 'Policy'))
    return [...latest.values()].sort((a, b) => (a.entry.id < b.entry.id ? -1 : 1))
  },

  grant_admin(hdk, grant) {
    return createUnderAnchor(hdk, ALL_ADMINS, 'AdminGrant', grant, 'AllAdmins')
  },

  list_admins(hdk) {
    return linkedRecords<AdminGrant>(hdk, hdk.anchor(ALL_ADMINS), 'AllAdmins', 'AdminGrant')
  },

  record_decision(hdk, decision) {
    const hash = hdk.create_entry('Decision', decision)
    // The resource as the tag: a task's decisions are found by prefix, however many others exist.
    hdk.create_link(hdk.anchor(ALL_DECISIONS), hash, 'AllDecisions', resourceTag(decision.resource))
    hdk.create_link(decodeHashB64(decision.subject, 'agent'), hash, 'SubjectToDecisions')
    return toRecordRef(hdk.get(hash)!)
  },

  list_decisions(hdk, { subject, resource, limit }) {
    const decisions =
      resource !== null
        ? linkedRecords<Decision>(
            hdk,
            hdk.anchor(ALL_DECISIONS),
            'AllDecisions',
            'Decision',
            resourceTag(resource),
          ).filter((d) => d.entry.resource === resource && (subject === null || d.entry.subject === subject))
        : subject === null
          ? linkedRecords<Decision>(hdk, hdk.anchor(ALL_DECISIONS), 'AllDecisions', 'Decision')
          : linkedRecords<Decision>(
              hdk,
              decodeHashB64(subject, 'agent'),
              'SubjectToDecisions',
              'Decision',
            ).filter((d) => d.entry.subject === subject)
    return decisions.reverse().slice(0, limit)
  },

  publish_model_alias(hdk, alias) {
    return createUnderAnchor(hdk, ALL_MODEL_ALIASES, 'ModelAlias', alias, 'AllModelAliases')
  },

  list_model_aliases(hdk) {
    const all = linkedRecords<ModelAlias>(hdk, hdk.anchor(ALL_MODEL_ALIASES), 'AllModelAliases', 'ModelAlias')
    const latest = new Map<string, EntryRecord<ModelAlias>>()
    for (const a of all) {
      const best = latest.get(a.entry.name)
      if (best === undefined || later(a, best)) latest.set(a.entry.name, a)
    }
    return [...latest.values()]
      .filter((a) => a.entry.targets.length > 0)
      .sort((a, b) => (a.entry.name < b.entry.name ? -1 : 1))
  },
}

/** The later write, then the higher action hash: every peer agrees on one winner of a race. */
function later(a: EntryRecord<unknown>, b: EntryRecord<unknown>): boolean {
  return a.timestamp > b.timestamp || (a.timestamp === b.timestamp && a.action_hash > b.action_hash)
}

/** A decision link's tag: the resource's UTF-8 and a NUL, so one resource is never a prefix of another. */
function resourceTag(resource: string): Uint8Array {
  return Buffer.from(`${resource}\0`)
}

/**
 * The newest version of each policy id: highest version, then the later write, then the action hash,
 * so two admins who raced to the same version still agree everywhere on one winner.
 */
function latestPerId(policies: EntryRecord<Policy>[]): Map<string, EntryRecord<Policy>> {
  const latest = new Map<string, EntryRecord<Policy>>()
  for (const p of policies) {
    const best = latest.get(p.entry.id)
    if (
      best === undefined ||
      p.entry.version > best.entry.version ||
      (p.entry.version === best.entry.version &&
        (p.timestamp > best.timestamp ||
          (p.timestamp === best.timestamp && p.action_hash > best.action_hash)))
    ) {
      latest.set(p.entry.id, p)
    }
  }
  return latest
}
