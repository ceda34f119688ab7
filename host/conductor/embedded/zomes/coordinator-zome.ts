/**
 * The shape of a coordinator zome of the embedded conductor: its functions by name, each given the Hdk
 * and its input as the contract's schema parsed it. The zome modules and their index share it.
 */
import type { z } from 'zod'
import type { Contract, DnaName, ZomeFnName, ZomeOutput } from '../../../../zomes-bindings/index.ts'
import type { Hdk } from '../hdk.ts'

/** The input after the contract's schema parsed it (defaults applied). */
type ParsedZomeInput<D extends DnaName, F extends ZomeFnName<D>> = Contract[D]['functions'][F] extends {
  input: infer S extends z.ZodType
}
  ? z.output<S>
  : never

export type ZomeFunction<D extends DnaName, F extends ZomeFnName<D>> = (
  hdk: Hdk,
  input: ParsedZomeInput<D, F>,
) => ZomeOutput<D, F> | Promise<ZomeOutput<D, F>>

export type CoordinatorZome<D extends DnaName> = { [F in ZomeFnName<D>]?: ZomeFunction<D, F> }
