/**
 * Runs an authorised zome call on the embedded conductor as a Holochain cell runs it: the coordinator
 * zome is named after its DNA, the payload and the result are msgpack (no `Ok` wrapper), and any error
 * of the zome is a `ribosome_error` carrying its text.
 */
import { decode } from '@msgpack/msgpack'
import {
  BROADCAST_SIGNAL_FN,
  contract,
  type DnaName,
  SEND_SIGNAL_FN,
  SendSignalInputSchema,
  type ZomeFnName,
  type ZomeInput,
} from '../../../../zomes-bindings/index.ts'
import type { EmbeddedConductor } from '../conductor.ts'
import { ConductorApiError, pack } from './wire.ts'
import type { ZomeCallParams } from './zome-call-auth.ts'

export async function runZomeCall(
  conductor: EmbeddedConductor,
  dna: DnaName,
  params: Pick<ZomeCallParams, 'zome_name' | 'fn_name' | 'payload'>,
): Promise<Uint8Array> {
  const ribosomeError = (message: string) => new ConductorApiError('ribosome_error', message)
  if (params.zome_name !== dna) throw ribosomeError(`ZomeNotExists(${params.zome_name})`)
  let payload: unknown
  try {
    payload = params.payload === null ? null : decode(params.payload)
  } catch (err) {
    throw ribosomeError(`SerializedBytesError: payload is not msgpack: ${(err as Error).message}`)
  }
  try {
    if (params.fn_name === BROADCAST_SIGNAL_FN) {
      await conductor.broadcastSignal(dna, payload)
      return pack(null)
    }
    if (params.fn_name === SEND_SIGNAL_FN) {
      const { to, payload: signal } = SendSignalInputSchema.parse(payload)
      await conductor.sendSignal(dna, to, signal)
      return pack(null)
    }
    if (!(params.fn_name in contract[dna].functions)) {
      throw ribosomeError(`ZomeFnNotExists(${params.zome_name}, ${params.fn_name})`)
    }
    const fn = params.fn_name as ZomeFnName<DnaName>
    return pack(await conductor.callZome(dna, fn, payload as ZomeInput<DnaName, typeof fn>))
  } catch (err) {
    if (err instanceof ConductorApiError) throw err
    throw ribosomeError(`${(err as Error).name}: ${(err as Error).message}`)
  }
}
