/**
 * The checks Holochain runs on a signed zome call before the zome runs, in its order: decode the exact
 * bytes received, verify the Ed25519 signature over their SHA-512 by the provenance key, check the nonce
 * and expiry (nonce.rs), then a capability grant (source_chain.rs `valid_cap_grant`).
 */
import { createHash, randomBytes } from 'node:crypto'
import { decode } from '@msgpack/msgpack'
import { hashContent } from '../../../identity/hash.ts'
import { verifyAgentSignature } from '../../../identity/keystore.ts'
import { ConductorApiError } from './wire.ts'

/** A call may be at most this far in the future (Holochain: 50 minutes). */
const MAX_FUTURE_US = 50 * 60 * 1_000_000

export interface ZomeCallParams {
  provenance: Uint8Array
  cell_id: [Uint8Array, Uint8Array]
  zome_name: string
  fn_name: string
  cap_secret: Uint8Array | null
  /** msgpack of the zome function's input. */
  payload: Uint8Array | null
  nonce: Uint8Array
  /** µs since the epoch. */
  expires_at: number
}

const isBytes = (v: unknown, length?: number): v is Uint8Array =>
  v instanceof Uint8Array && (length === undefined || v.length === length)

/** Decodes the signed bytes; Holochain answers a failure with internal_error. */
export function decodeZomeCallParams(bytes: Uint8Array): ZomeCallParams {
  let params: Record<string, unknown>
  try {
    params = decode(bytes) as Record<string, unknown>
  } catch (err) {
    throw new ConductorApiError('internal_error', `zome call bytes do not decode: ${(err as Error).message}`)
  }
  const cellId = params?.cell_id
  const ok =
    typeof params === 'object' &&
    params !== null &&
    isBytes(params.provenance, 39) &&
    Array.isArray(cellId) &&
    isBytes(cellId[0], 39) &&
    isBytes(cellId[1], 39) &&
    typeof params.zome_name === 'string' &&
    typeof params.fn_name === 'string' &&
    (params.cap_secret == null || isBytes(params.cap_secret, 64)) &&
    (params.payload == null || isBytes(params.payload)) &&
    isBytes(params.nonce, 32) &&
    typeof params.expires_at === 'number'
  if (!ok) throw new ConductorApiError('internal_error', 'zome call bytes are not a ZomeCallParams')
  return {
    provenance: params.provenance as Uint8Array,
    cell_id: [cellId[0], cellId[1]] as [Uint8Array, Uint8Array],
    zome_name: params.zome_name as string,
    fn_name: params.fn_name as string,
    cap_secret: (params.cap_secret as Uint8Array | null | undefined) ?? null,
    payload: (params.payload as Uint8Array | null | undefined) ?? null,
    nonce: params.nonce as Uint8Array,
    expires_at: params.expires_at as number,
  }
}

/** Ed25519 by `provenance[3..35]` over SHA-512 of the bytes exactly as received (never re-encoded). */
export function verifyZomeCallSignature(bytes: Uint8Array, signature: unknown, provenance: Uint8Array): void {
  const digest = createHash('sha512').update(bytes).digest()
  if (!isBytes(signature, 64) || !verifyAgentSignature(provenance, digest, signature)) {
    throw new ConductorApiError('zome_call_authentication_failed', 'Authentication failed for zome call')
  }
}

/** Nonces seen per provenance, each kept until its call expires (holochain_state nonce.rs). */
export class NonceTracker {
  readonly #seen = new Map<string, number>()

  check(params: ZomeCallParams, nowUs: number): void {
    const unauthorized = (why: string) =>
      new ConductorApiError(
        'zome_call_unauthorized',
        `Zome call ${params.zome_name}.${params.fn_name} unauthorized: BadNonce(${why})`,
      )
    if (params.expires_at <= nowUs) throw unauthorized('Expired')
    if (params.expires_at > nowUs + MAX_FUTURE_US) throw unauthorized('Future')
    for (const [key, expiresAt] of this.#seen) if (expiresAt <= nowUs) this.#seen.delete(key)
    const key = `${Buffer.from(params.provenance).toString('base64')}:${Buffer.from(params.nonce).toString('base64')}`
    if (this.#seen.has(key)) throw unauthorized('Duplicate')
    this.#seen.set(key, params.expires_at)
  }
}

export type CapAccess =
  | { type: 'unrestricted' }
  | { type: 'transferable'; value: { secret: Uint8Array } }
  | { type: 'assigned'; value: { secret: Uint8Array; assignees: Uint8Array[] } }

export type GrantedFunctions = { type: 'all' } | { type: 'listed'; value: [string, string][] }

export interface ZomeCallCapGrant {
  tag: string
  access: CapAccess
  functions: GrantedFunctions
}

/** A grant as `list_capability_grants` shows it (CapGrantInfo). */
export interface CapGrantInfo {
  cap_grant: ZomeCallCapGrant
  action_hash: Uint8Array
  created_at: number
  revoked_at: number | null
}

/**
 * The zome call capability grants of each cell. Holochain writes them to the source chain; here they
 * live as long as the conductor process, which is as long as the clients' credentials live (the
 * client keeps its signing keys in memory and authorises again after each restart).
 */
export class CapGrantStore {
  readonly #grants = new Map<string, CapGrantInfo[]>()

  grant(cellKey: string, capGrant: ZomeCallCapGrant, nowUs: number): Uint8Array {
    if (!validGrantShape(capGrant)) {
      throw new ConductorApiError('internal_error', 'cap_grant is not a ZomeCallCapGrant')
    }
    const actionHash = hashContent(randomBytes(32), 'action')
    const list = this.#grants.get(cellKey) ?? []
    list.push({ cap_grant: capGrant, action_hash: actionHash, created_at: nowUs, revoked_at: null })
    this.#grants.set(cellKey, list)
    return actionHash
  }

  revoke(cellKey: string, actionHash: Uint8Array, nowUs: number): void {
    const grant = this.#grants.get(cellKey)?.find((g) => Buffer.compare(g.action_hash, actionHash) === 0)
    if (grant === undefined) throw new ConductorApiError('internal_error', 'no such capability grant')
    grant.revoked_at ??= nowUs
  }

  list(cellKey: string, includeRevoked: boolean): CapGrantInfo[] {
    return (this.#grants.get(cellKey) ?? []).filter((g) => includeRevoked || g.revoked_at === null)
  }

  /** The call's author is the cell's agent (ChainAuthor), or a live grant covers it; else BadCapGrant. */
  authorize(cellKey: string, cellAgent: Uint8Array, params: ZomeCallParams): void {
    if (Buffer.compare(params.provenance, cellAgent) === 0) return
    const covers = (g: CapGrantInfo) =>
      g.revoked_at === null &&
      grantsFunction(g.cap_grant.functions, params.zome_name, params.fn_name) &&
      accessAllows(g.cap_grant.access, params)
    if (!(this.#grants.get(cellKey) ?? []).some(covers)) {
      throw new ConductorApiError(
        'zome_call_unauthorized',
        `Zome call ${params.zome_name}.${params.fn_name} unauthorized: BadCapGrant`,
      )
    }
  }
}

function grantsFunction(functions: GrantedFunctions, zome: string, fn: string): boolean {
  return functions.type === 'all' || functions.value.some(([z, f]) => z === zome && f === fn)
}

function accessAllows(access: CapAccess, params: ZomeCallParams): boolean {
  if (access.type === 'unrestricted') return true
  const secret = params.cap_secret
  if (secret === null || Buffer.compare(secret, access.value.secret) !== 0) return false
  return (
    access.type === 'transferable' ||
    access.value.assignees.some((a) => Buffer.compare(a, params.provenance) === 0)
  )
}

function validGrantShape(g: ZomeCallCapGrant): boolean {
  if (typeof g !== 'object' || g === null || typeof g.tag !== 'string') return false
  const f = g.functions
  const functionsOk =
    f?.type === 'all' ||
    (f?.type === 'listed' &&
      Array.isArray(f.value) &&
      f.value.every((p) => Array.isArray(p) && typeof p[0] === 'string' && typeof p[1] === 'string'))
  const a = g.access
  const accessOk =
    a?.type === 'unrestricted' ||
    (a?.type === 'transferable' && isBytes(a.value?.secret, 64)) ||
    (a?.type === 'assigned' &&
      isBytes(a.value?.secret, 64) &&
      Array.isArray(a.value.assignees) &&
      a.value.assignees.every((x) => isBytes(x, 39)))
  return functionsOk && accessOk
}
