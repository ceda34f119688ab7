import type { z } from 'zod'

/**
 * The schema of a type declared in a module below the API: the compiler holds the two to the same
 * shape (both ways), so neither can drift from the other.
 */
export const describes =
  <T>() =>
  <S extends z.ZodType<T>>(schema: S & ([T] extends [z.output<S>] ? unknown : never)): S =>
    schema
