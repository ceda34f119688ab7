/**
 * How bytes become a UnixFS DAG, named after Kubo's IPIP-499 import profiles so the same bytes give
 * the same CID here, in Kubo and in any other implementation that follows the profile.
 * `unixfs-v1-2025` (CIDv1, raw leaves, 1 MiB chunks, 1024 links per node) is Ripple's default;
 * `unixfs-v0-2015` is Kubo's own default (CIDv0, dag-pb leaves, 256 KiB chunks, 174 links).
 */
import { z } from 'zod'

export const IMPORT_PROFILES = ['unixfs-v1-2025', 'unixfs-v0-2015'] as const
export const ImportProfileSchema = z.enum(IMPORT_PROFILES)
export type ImportProfile = z.infer<typeof ImportProfileSchema>
export const DEFAULT_IMPORT_PROFILE: ImportProfile = 'unixfs-v1-2025'

export interface ProfileSettings {
  cidVersion: 0 | 1
  rawLeaves: boolean
  chunkSize: number
  maxLinks: number
}

export const PROFILE_SETTINGS: Record<ImportProfile, ProfileSettings> = {
  'unixfs-v1-2025': { cidVersion: 1, rawLeaves: true, chunkSize: 1_048_576, maxLinks: 1024 },
  'unixfs-v0-2015': { cidVersion: 0, rawLeaves: false, chunkSize: 262_144, maxLinks: 174 },
}
