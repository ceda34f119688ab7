/**
 * policy_store: what is allowed, decided the same way everywhere.
 *
 * Only admins write Policy, AdminGrant and ModelAlias: the progenitor named in the DNA properties, or an agent
 * holding an AdminGrant that the entry cites. With no progenitor (`progenitor: null`) nobody may write
 * them, so a network without a named admin cannot be taken over by whoever writes the first policy.
 */
import { z } from 'zod'
import {
  ActionHashB64Schema,
  AgentPubKeyB64Schema,
  DottedIdSchema,
  entryRecord,
  int,
  LIMITS,
  line,
  list,
  ModelNameSchema,
  NoInputSchema,
  prose,
  ReasonSchema,
  RecordRefSchema,
  SlugSchema,
} from './common.ts'

const P = LIMITS.policy
const D = LIMITS.decision

/** DNA properties of policy_store. */
export const PolicyStorePropertiesSchema = z.object({ progenitor: AgentPubKeyB64Schema.nullable() })
export type PolicyStoreProperties = z.infer<typeof PolicyStorePropertiesSchema>

export const PolicyIdSchema = SlugSchema(P.id)

export const PolicySchema = z.strictObject({
  id: PolicyIdSchema,
  /** Updates must raise it and keep `id`. */
  version: int(P.version),
  /** Cedar policy text. */
  text: prose(P.text),
  description: line(P.description),
  /** The AdminGrant that authorises a non-progenitor author; null when the progenitor writes. */
  admin_grant: ActionHashB64Schema.nullable(),
})
export type Policy = z.infer<typeof PolicySchema>

/** An alias's name: a model name, or a prefix of one ending in `*` (a pattern; `*` alone: any name). */
export const ModelAliasNameSchema = ModelNameSchema.refine(
  (s) => !s.slice(0, -1).includes('*'),
  'an alias is a model name, or a prefix of one ending in "*" ("*" nowhere else)',
)
/** What an alias names: a model name, never a pattern. */
export const AliasTargetSchema = ModelNameSchema.refine(
  (s) => !s.includes('*'),
  'an alias names models by their names, without "*"',
)

/**
 * A mesh-wide model alias: `name` stands for `targets`, in order of preference. Append-only: the
 * latest entry of a name (by its action's timestamp, then its hash) is the alias; one naming no
 * targets removes it.
 */
export const ModelAliasSchema = z
  .strictObject({
    name: ModelAliasNameSchema,
    targets: list(AliasTargetSchema, LIMITS.model_alias.targets).refine(
      (t) => new Set(t).size === t.length,
      'an alias names each model once',
    ),
    /** The AdminGrant that authorises a non-progenitor author; null when the progenitor writes. */
    admin_grant: ActionHashB64Schema.nullable(),
  })
  .refine((a) => !a.targets.includes(a.name), { message: 'an alias cannot name itself', path: ['targets'] })
export type ModelAlias = z.infer<typeof ModelAliasSchema>

/** Makes `agent` an admin. Immutable: grants are not revoked in this version. */
export const AdminGrantSchema = z.strictObject({
  agent: AgentPubKeyB64Schema,
  /** The author's own AdminGrant; null when the progenitor grants. */
  granted_by_grant: ActionHashB64Schema.nullable(),
})
export type AdminGrant = z.infer<typeof AdminGrantSchema>

const ContextValueSchema = z.union([line(D.context_value), z.number(), z.boolean(), z.null()])

/** An audit record of a policy decision (immutable). */
export const DecisionSchema = z.strictObject({
  subject: AgentPubKeyB64Schema,
  action: DottedIdSchema(D.action),
  resource: line(D.resource),
  allowed: z.boolean(),
  policy_ids: list(PolicyIdSchema, D.policy_ids),
  reason: ReasonSchema,
  /** A flat summary of the request context (requirements, sizes...). */
  context: z
    .record(line(D.context_key), ContextValueSchema)
    .refine(
      (c) => Object.keys(c).length <= D.context_keys.max,
      `context must have at most ${D.context_keys.max} keys`,
    ),
})
export type Decision = z.infer<typeof DecisionSchema>

export const policyStore = {
  entryTypes: {
    Policy: PolicySchema,
    AdminGrant: AdminGrantSchema,
    Decision: DecisionSchema,
    ModelAlias: ModelAliasSchema,
  },
  linkTypes: [
    'AllPolicies',
    'PolicyIdToPolicy',
    'AllAdmins',
    'SubjectToDecisions',
    'AllDecisions',
    'AllModelAliases',
  ],
  functions: {
    publish_policy: { input: PolicySchema, output: RecordRefSchema },
    /** The latest version of each policy id. */
    list_policies: { input: NoInputSchema, output: z.array(entryRecord(PolicySchema)) },
    grant_admin: { input: AdminGrantSchema, output: RecordRefSchema },
    list_admins: { input: NoInputSchema, output: z.array(entryRecord(AdminGrantSchema)) },
    record_decision: { input: DecisionSchema, output: RecordRefSchema },
    /** Newest first; `subject` null lists every subject's; `resource` only those about it (e.g. `Task::"uhCkk..."`). */
    list_decisions: {
      input: z.object({
        subject: AgentPubKeyB64Schema.nullable().default(null),
        resource: line(D.resource).nullable().default(null),
        limit: z.number().int().min(1).max(1000).default(100),
      }),
      output: z.array(entryRecord(DecisionSchema)),
    },
    /** Admins only (the rules): sets an alias for the whole mesh; no targets removes it. */
    publish_model_alias: { input: ModelAliasSchema, output: RecordRefSchema },
    /** The latest entry of each alias name, those naming no targets (removed) left out; by name. */
    list_model_aliases: { input: NoInputSchema, output: z.array(entryRecord(ModelAliasSchema)) },
  },
} as const
