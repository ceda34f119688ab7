/**
 * Artifacts of this peer: imports bytes into IPFS and registers them (Artifact with provenance) in
 * artifact_index, reads them back checked against the CID (per block, by IPFS) and the artifact's
 * sha256 and size, and keeps or releases this peer's pins (PinCommitment, released only by it).
 * Everything streams: no file is held whole in memory.
 */
import { CID } from 'multiformats/cid'
import type { ActionHashB64, Artifact, EntryRecord, PinCommitment } from '../../zomes-bindings/index.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import { DEFAULT_IMPORT_PROFILE } from '../ipfs/import-profile.ts'
import type { IpfsStore } from '../ipfs/ipfs-store.ts'
import { resumingFetch } from '../ipfs/resuming-fetch.ts'
import { SharedFetches } from '../ipfs/shared-fetch.ts'
import type { Logger } from '../log/logger.ts'
import {
  ArtifactMismatchError,
  ArtifactNotFoundError,
  ContentUnavailableError,
  DiskFullError,
  InvalidCidError,
  isDiskFull,
  PinQuotaExceededError,
} from './artifact-errors.ts'
import type {
  AddArtifactOptions,
  ArtifactsPort,
  ArtifactView,
  ImportedContent,
  Provenance,
  ReadOptions,
} from './artifacts-port.ts'
import { ContentMeter } from './content-meter.ts'

export interface ArtifactServiceInit {
  conductor: Pick<ConductorPort, 'callZome' | 'agentPubKey'>
  ipfs: IpfsStore
  /** How long a fetch may go without receiving a block; default 30 s. */
  fetchIdleTimeoutMs?: number
  /** Bytes of artifacts this peer keeps at most (`--ipfs-max-size`); unlimited when unset. */
  maxBytes?: number
  /**
   * Called when an Artifact's sha256 or size is not that of its CID's bytes (which the CID itself
   * vouches for): its author registered a lie, and the daemon warrants it.
   */
  onMismatch?: (artifact: EntryRecord<Artifact>, error: ArtifactMismatchError) => void
  logger: Logger
}

export const MANUAL_PROVENANCE: Provenance = {
  task: null,
  result: null,
  input_cids: [],
  tool: 'ripple artifact add',
  model: null,
}
const DEFAULT_IDLE_MS = 30_000
/** A fetch that brings nothing this long is asked again (see `resumingFetch`). */
const RETRY_AFTER_MS = 5_000

export class ArtifactService implements ArtifactsPort {
  readonly ipfs: IpfsStore
  readonly #conductor: ArtifactServiceInit['conductor']
  readonly #maxBytes: number
  readonly #onMismatch: ArtifactServiceInit['onMismatch']
  readonly #logger: Logger
  readonly #replicas = new Set<string>()
  readonly #fetches: SharedFetches

  constructor(init: ArtifactServiceInit) {
    this.ipfs = init.ipfs
    this.#conductor = init.conductor
    const idleMs = init.fetchIdleTimeoutMs ?? DEFAULT_IDLE_MS
    // A reader and the replication keeper wanting one CID share its fetch.
    this.#fetches = new SharedFetches(init.ipfs, (cid, signal) =>
      resumingFetch((offset, attempt) => init.ipfs.cat(cid, { offset, signal: attempt }), {
        retryAfterMs: Math.min(RETRY_AFTER_MS, idleMs),
        idleMs,
        onIdle: () => new ContentUnavailableError(cid.toString(), idleMs),
        signal,
      }),
    )
    this.#maxBytes = init.maxBytes ?? Number.POSITIVE_INFINITY
    this.#onMismatch = init.onMismatch
    this.#logger = init.logger
  }

  /** Imports, pins here, registers the Artifact and this peer's PinCommitment. */
  async add(content: AsyncIterable<Uint8Array>, options: AddArtifactOptions): Promise<ArtifactView> {
    return this.register(await this.importBytes(content, options), options)
  }

  /** Imports and pins here, registering nothing yet (a task result registers once its Result exists). */
  async importBytes(
    content: AsyncIterable<Uint8Array>,
    options: Pick<AddArtifactOptions, 'profile' | 'signal' | 'onProgress'> = {},
  ): Promise<ImportedContent> {
    const meter = new ContentMeter({ stage: 'import', total: null }, options.onProgress)
    const cid = await this.#whileDiskHolds(null, async () => {
      const added = await this.ipfs.add(meter.through(content), {
        profile: options.profile ?? DEFAULT_IMPORT_PROFILE,
        signal: options.signal,
      })
      await this.ipfs.pin(added, { signal: options.signal })
      return added
    })
    return { cid: cid.toString(), size: meter.bytes, sha256: meter.sha256() }
  }

  /** Registers imported content as an Artifact (once per CID) and commits this peer to keep it. */
  async register(
    content: ImportedContent,
    options: Omit<AddArtifactOptions, 'signal' | 'onProgress' | 'profile'>,
  ): Promise<ArtifactView> {
    const artifact: Artifact = {
      ...content,
      name: options.name,
      mime_type: options.mimeType ?? 'application/octet-stream',
      provenance: options.provenance ?? MANUAL_PROVENANCE,
      replication: options.replication ?? 1,
    }
    // The same bytes added twice keep the first registration; the pin is what this add adds.
    const existing = await this.#conductor.callZome('artifact_index', 'get_artifact', artifact.cid)
    const ref = existing ?? (await this.#conductor.callZome('artifact_index', 'register_artifact', artifact))
    await this.#commitPin(artifact.cid, ref.action_hash)
    return this.show(artifact.cid)
  }

  /** The artifact's bytes; the stream throws ArtifactMismatchError at its end when sha256 or size differ. */
  async read(
    cidText: string,
    options: ReadOptions = {},
  ): Promise<{ artifact: Artifact; bytes: AsyncIterable<Uint8Array> }> {
    const record = await this.#artifact(cidText)
    return { artifact: record.entry, bytes: this.#checked(record, options) }
  }

  /**
   * Fetches (checked), pins and commits to keep it; nothing happens if this peer already does.
   * `replica`: pinned only to keep the replication (released again when surplus); a pin without it
   * is the user's and stays.
   */
  async pin(cidText: string, options: ReadOptions & { replica?: boolean } = {}): Promise<ArtifactView> {
    const record = await this.#artifact(cidText)
    const cid = parseCid(cidText)
    if (!(await this.ipfs.isPinned(cid))) {
      const room = this.room(await this.list())
      if (record.entry.size > room) throw new PinQuotaExceededError(cidText, record.entry.size, room)
      await this.#whileDiskHolds(cid, async () => {
        // Reading stores every block here, checked, before anything is promised.
        for await (const _ of this.#checked(record, options)) {
          // drained: the blocks are what is wanted
        }
        await this.ipfs.pin(cid, { signal: options.signal })
      })
    }
    await this.#commitPin(cidText, record.action_hash)
    if (options.replica) this.#replicas.add(cidText)
    else this.#replicas.delete(cidText)
    return this.show(cidText)
  }

  /** CIDs pinned here only as replicas, in this run (a pin from before a restart counts as the user's). */
  get replicas(): ReadonlySet<string> {
    return this.#replicas
  }

  /** Releases this peer's commitments for the CID, unpins it and removes the blocks nothing else needs. */
  async unpin(cidText: string): Promise<ArtifactView> {
    const cid = parseCid(cidText)
    for (const pin of await this.#ownPins(cidText)) {
      await this.#conductor.callZome('artifact_index', 'release_pin', pin.action_hash)
    }
    await this.ipfs.unpin(cid)
    this.#replicas.delete(cidText)
    await this.ipfs.gc()
    return this.show(cidText)
  }

  /** Bytes this peer may still pin: its quota less the artifacts it keeps. */
  room(views: readonly ArtifactView[]): number {
    return Math.max(0, this.#maxBytes - this.#kept(views))
  }

  /** Bytes this peer keeps beyond its quota (after the quota was lowered); 0 when within it. */
  excess(views: readonly ArtifactView[]): number {
    return Math.max(0, this.#kept(views) - this.#maxBytes)
  }

  #kept(views: readonly ArtifactView[]): number {
    return views
      .filter((v) => v.holders.some((h) => h.author === this.#conductor.agentPubKey))
      .reduce((sum, v) => sum + v.artifact.entry.size, 0)
  }

  get agent(): string {
    return this.#conductor.agentPubKey
  }

  async show(cidText: string): Promise<ArtifactView> {
    const artifact = await this.#artifact(cidText)
    const holders = await this.#conductor.callZome('artifact_index', 'list_pin_holders', cidText)
    return { artifact, holders }
  }

  async list(): Promise<ArtifactView[]> {
    const artifacts = await this.#conductor.callZome('artifact_index', 'list_artifacts', null)
    const seen = new Set<string>()
    const views: ArtifactView[] = []
    for (const artifact of artifacts) {
      if (seen.has(artifact.entry.cid)) continue
      seen.add(artifact.entry.cid)
      const holders = await this.#conductor.callZome('artifact_index', 'list_pin_holders', artifact.entry.cid)
      views.push({ artifact, holders })
    }
    return views
  }

  async *#checked(record: EntryRecord<Artifact>, options: ReadOptions): AsyncGenerator<Uint8Array> {
    const artifact = record.entry
    const cid = parseCid(artifact.cid)
    const meter = new ContentMeter({ stage: 'fetch', total: artifact.size }, options.onProgress)
    yield* meter.through(this.#fetches.read(cid, options.signal))
    const sha256 = meter.sha256()
    const mismatch =
      meter.bytes !== artifact.size
        ? new ArtifactMismatchError(artifact.cid, 'size', String(artifact.size), String(meter.bytes))
        : sha256 !== artifact.sha256
          ? new ArtifactMismatchError(artifact.cid, 'sha256', artifact.sha256, sha256)
          : null
    if (mismatch === null) return
    this.#logger.warn({ cid: artifact.cid, author: record.author, err: mismatch.message }, 'artifact refused')
    if (record.author !== this.#conductor.agentPubKey) this.#onMismatch?.(record, mismatch)
    throw mismatch
  }

  /** Runs a write into the store; a full disk ends it as DiskFullError, with its partial blocks removed. */
  async #whileDiskHolds<T>(cid: CID | null, write: () => Promise<T>): Promise<T> {
    try {
      return await write()
    } catch (err) {
      if (!isDiskFull(err)) throw err
      // The blocks that did arrive would only keep the disk full: nothing pinned needs them.
      if (cid !== null) await this.ipfs.unpin(cid).catch(() => {})
      await this.ipfs.gc().catch(() => {})
      throw new DiskFullError(cid?.toString() ?? null)
    }
  }

  async #artifact(cidText: string): Promise<EntryRecord<Artifact>> {
    parseCid(cidText)
    const record = await this.#conductor.callZome('artifact_index', 'get_artifact', cidText)
    if (record === null) throw new ArtifactNotFoundError(cidText)
    return record
  }

  async #ownPins(cid: string): Promise<EntryRecord<PinCommitment>[]> {
    const holders = await this.#conductor.callZome('artifact_index', 'list_pin_holders', cid)
    return holders.filter((p) => p.author === this.#conductor.agentPubKey)
  }

  async #commitPin(cid: string, artifact: ActionHashB64): Promise<void> {
    if ((await this.#ownPins(cid)).length > 0) return
    await this.#conductor.callZome('artifact_index', 'commit_pin', {
      cid,
      artifact,
      holder: this.#conductor.agentPubKey,
    })
  }
}

export function parseCid(text: string): CID {
  try {
    return CID.parse(text)
  } catch {
    throw new InvalidCidError(text)
  }
}
