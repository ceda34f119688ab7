/** artifact_index: what is stored on IPFS, where it came from, and who keeps it. */
import { z } from 'zod'
import {
  ActionHashB64Schema,
  AgentPubKeyB64Schema,
  ByteCountSchema,
  CidSchema,
  entryRecord,
  int,
  LIMITS,
  line,
  list,
  ModelNameSchema,
  NoInputSchema,
  pattern,
  RecordRefSchema,
  Sha256HexSchema,
} from './common.ts'

const A = LIMITS.artifact

export const ProvenanceSchema = z
  .strictObject({
    task: ActionHashB64Schema.nullable(),
    result: ActionHashB64Schema.nullable(),
    input_cids: list(CidSchema, A.input_cids),
    tool: line(A.tool),
    model: ModelNameSchema.nullable(),
  })
  .refine((p) => p.result === null || p.task !== null, {
    message: 'a provenance result needs its task',
    path: ['result'],
  })

/** Content-addressed, so never updated; deleted only by its author. */
export const ArtifactSchema = z.strictObject({
  cid: CidSchema,
  size: ByteCountSchema,
  name: line(A.name),
  mime_type: pattern(
    A.mime_type,
    /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$/,
    'a MIME type like "application/json"',
  ),
  sha256: Sha256HexSchema,
  provenance: ProvenanceSchema,
  replication: int(A.replication),
})
export type Artifact = z.infer<typeof ArtifactSchema>

/** A peer promises to keep `cid` pinned; `holder` is its author, and only it releases (deletes) it. */
export const PinCommitmentSchema = z.strictObject({
  cid: CidSchema,
  artifact: ActionHashB64Schema,
  holder: AgentPubKeyB64Schema,
})
export type PinCommitment = z.infer<typeof PinCommitmentSchema>

export const artifactIndex = {
  entryTypes: { Artifact: ArtifactSchema, PinCommitment: PinCommitmentSchema },
  linkTypes: ['AllArtifacts', 'CidToArtifact', 'ArtifactToPins', 'AgentToPins'],
  functions: {
    register_artifact: { input: ArtifactSchema, output: RecordRefSchema },
    get_artifact: { input: CidSchema, output: entryRecord(ArtifactSchema).nullable() },
    list_artifacts: { input: NoInputSchema, output: z.array(entryRecord(ArtifactSchema)) },
    commit_pin: { input: PinCommitmentSchema, output: RecordRefSchema },
    /** Deletes the caller's PinCommitment (by its action hash); returns the delete action's hash. */
    release_pin: { input: ActionHashB64Schema, output: ActionHashB64Schema },
    /** Live (unreleased) commitments for a CID. */
    list_pin_holders: { input: CidSchema, output: z.array(entryRecord(PinCommitmentSchema)) },
  },
} as const
