/**
 * The enum values of `@holochain/client` this conductor writes and compares. Its enums exist only at
 * run time inside the client package, whose import costs ~270 ms and ~40 MB at daemon start; these are
 * the same strings, typed as the client's enum members so records keep its exact types.
 */
import type { ActionType, DetailsType, EntryDhtStatus, ValidationStatus } from '@holochain/client'

export const ActionTypes = {
  Dna: 'Dna' as ActionType.Dna,
  AgentValidationPkg: 'AgentValidationPkg' as ActionType.AgentValidationPkg,
  InitZomesComplete: 'InitZomesComplete' as ActionType.InitZomesComplete,
  CreateLink: 'CreateLink' as ActionType.CreateLink,
  DeleteLink: 'DeleteLink' as ActionType.DeleteLink,
  Create: 'Create' as ActionType.Create,
  Update: 'Update' as ActionType.Update,
  Delete: 'Delete' as ActionType.Delete,
} as const

export const DetailsTypes = {
  Entry: 'entry' as DetailsType.Entry,
  Record: 'record' as DetailsType.Record,
} as const

export const EntryDhtStatuses = {
  Live: 'live' as EntryDhtStatus.Live,
  Dead: 'dead' as EntryDhtStatus.Dead,
} as const

export const ValidationStatuses = {
  Valid: 0 as ValidationStatus.Valid,
} as const
