/** The model aliases' routes (`/api/models/aliases`): what is set, where, and what each runs now. */
import { z } from 'zod'
import { AliasNameSchema, ModelAliasSchema } from '../../requests/model-aliases.ts'

export const AliasViewSchema = z.object({
  ...ModelAliasSchema.shape,
  /** `mesh`: set by an admin for every peer; `peer`: this peer's own (it overrides the mesh's). */
  scope: z.enum(['mesh', 'peer']),
  /** The model a request naming it runs now; null when no peer serves any of its models. */
  resolves_to: z.string().nullable(),
})
export type AliasView = z.infer<typeof AliasViewSchema>

export const SetAliasBodySchema = z.strictObject({
  ...ModelAliasSchema.shape,
  /** Set for the whole mesh (an admin's, under the rules); default: this peer only. */
  mesh: z.boolean().default(false),
})
export type SetAliasBody = z.input<typeof SetAliasBodySchema>

export const RemoveAliasBodySchema = z.strictObject({
  name: AliasNameSchema,
  mesh: z.boolean().default(false),
})
export type RemoveAliasBody = z.input<typeof RemoveAliasBodySchema>
