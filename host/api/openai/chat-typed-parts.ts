/**
 * Arrays whose members are told apart by `type`, as the OpenAI APIs send them (content parts, input
 * items, tools): a member of a type Ripple reads is validated by its type's schema (a bad one is a 400
 * naming its field); a member of any other type is kept as `{ other: type }`, so the translator can
 * leave it out with a note instead of refusing what a client's next version adds.
 */
import { z } from 'zod'

/** A member of a type no schema reads. */
export interface OtherType {
  other: string
}

/**
 * A member read by the schema its `type` names (`implicit` when it has none); `{ other: type }` for a
 * type not among `schemas`.
 */
export function byType<const S extends Record<string, z.ZodType>>(schemas: S, implicit?: keyof S & string) {
  return z
    .looseObject({ type: z.string().optional() })
    .transform((raw, ctx): z.output<S[keyof S]> | OtherType => {
      const type = raw.type ?? implicit
      if (type === undefined || !Object.hasOwn(schemas, type)) return { other: raw.type ?? 'untyped' }
      const parsed = (schemas[type] as z.ZodType).safeParse(raw)
      if (parsed.success) return parsed.data as z.output<S[keyof S]>
      // Not aborting: a union around the array reports these issues, not its own "Invalid input".
      for (const issue of parsed.error.issues)
        ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path, continue: true })
      return z.NEVER
    })
}

export function isOther(member: object): member is OtherType {
  return 'other' in member
}

/** Adds what a request asked and Ripple leaves out to `ignored`, once. */
export function note(ignored: string[], what: string): void {
  if (!ignored.includes(what)) ignored.push(what)
}
