/**
 * POST /api/zome/:dna/:fn: calls any zome function of the contract. The body is checked against
 * the function's input schema first, so a caller gets every problem with its path at once
 * (the rules, which peers enforce on each other, check again when an entry is written). A client
 * that goes away before its answer stops the call's reads from holders.
 */
import type { FastifyInstance } from 'fastify'
import {
  contract,
  DNA_NAMES,
  type DnaName,
  type ZomeFunctionContract,
} from '../../../zomes-bindings/index.ts'
import type { ConductorPort, ZomeCallOptions } from '../../interface/conductor-port.ts'
import { API_STATUS } from '../api-status.ts'
import { routes } from '../contract/index.ts'
import { sendError, sendInvalidPayload } from '../error-reply.ts'
import { clientGone } from './event-stream-reply.ts'

type ZomeCaller = (dna: DnaName, fn: string, payload: unknown, options: ZomeCallOptions) => Promise<unknown>

export function registerZomeRoute(app: FastifyInstance, conductor: Pick<ConductorPort, 'callZome'>): void {
  // The contract has checked the payload; the port's static types cannot follow a runtime name.
  const call = conductor.callZome.bind(conductor) as unknown as ZomeCaller
  app.post(routes.callZome.path, async (request, reply) => {
    const { dna, fn } = routes.callZome.params.parse(request.params)
    if (!(DNA_NAMES as readonly string[]).includes(dna)) {
      return sendError(reply, API_STATUS.not_found, 'UnknownDnaError', `no DNA named "${dna}"`, {
        dnas: DNA_NAMES,
      })
    }
    const functions: Record<string, ZomeFunctionContract> = contract[dna as DnaName].functions
    const fnContract = Object.hasOwn(functions, fn) ? functions[fn] : undefined
    if (!fnContract) {
      return sendError(
        reply,
        API_STATUS.not_found,
        'UnknownZomeFunctionError',
        `${dna} has no zome function "${fn}"`,
        {
          functions: Object.keys(functions),
        },
      )
    }
    // A call without a body passes `null`, Holochain's `()` for functions that take nothing.
    const parsed = fnContract.input.safeParse(request.body ?? null)
    if (!parsed.success) return sendInvalidPayload(reply, `invalid input for ${dna}.${fn}`, parsed.error)
    // A client that goes away stops the call's reads from holders (its own deadline bounds them else).
    return call(dna as DnaName, fn, parsed.data, { signal: clientGone(reply) })
  })
}
