/**
 * What the rest of the node asks of this peer's artifacts: the API's add, read, pin and list; a task's
 * input and output as artifacts (./task-payloads.ts); and what the replication keeper reads and does.
 */
import type { Artifact, EntryRecord, PinCommitment } from '../../zomes-bindings/index.ts'
import type { LongOperationOptions } from '../interface/progress.ts'
import type { ImportProfile } from '../ipfs/import-profile.ts'

export type Provenance = Artifact['provenance']

/** Progress: the bytes imported so far (`import`; the total is not known while they stream in). */
export interface AddArtifactOptions extends LongOperationOptions {
  name: string
  /** Default `application/octet-stream`. */
  mimeType?: string
  /** Peers that should hold it; default 1 (this one). */
  replication?: number
  /** Default: added by hand (`tool: 'ripple artifact add'`, nothing else). */
  provenance?: Provenance
  profile?: ImportProfile
}

/** Bytes imported and pinned here, with what an Artifact says of them. */
export interface ImportedContent {
  cid: string
  size: number
  sha256: string
}

/** Progress: the bytes read so far, of the artifact's size (`fetch`). */
export type ReadOptions = LongOperationOptions

/** An artifact and the peers that keep it. */
export interface ArtifactView {
  artifact: EntryRecord<Artifact>
  holders: EntryRecord<PinCommitment>[]
}

export interface ArtifactsPort {
  /** This peer's agent, as its PinCommitments name it. */
  readonly agent: string
  /** CIDs pinned here only as replicas, in this run. */
  readonly replicas: ReadonlySet<string>
  add(content: AsyncIterable<Uint8Array>, options: AddArtifactOptions): Promise<ArtifactView>
  importBytes(
    content: AsyncIterable<Uint8Array>,
    options?: Pick<AddArtifactOptions, 'profile' | 'signal' | 'onProgress'>,
  ): Promise<ImportedContent>
  register(
    content: ImportedContent,
    options: Omit<AddArtifactOptions, 'signal' | 'onProgress' | 'profile'>,
  ): Promise<ArtifactView>
  read(cid: string, options?: ReadOptions): Promise<{ artifact: Artifact; bytes: AsyncIterable<Uint8Array> }>
  /** `replica`: pinned only to keep the replication (released again when surplus). */
  pin(cid: string, options?: ReadOptions & { replica?: boolean }): Promise<ArtifactView>
  unpin(cid: string): Promise<ArtifactView>
  /** Bytes this peer may still pin, and those it keeps beyond its quota. */
  room(views: readonly ArtifactView[]): number
  excess(views: readonly ArtifactView[]): number
  show(cid: string): Promise<ArtifactView>
  list(): Promise<ArtifactView[]>
}
