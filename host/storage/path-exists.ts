/** Whether something is at `path` (a file or a directory); false when it cannot be seen. */
import { stat } from 'node:fs/promises'

export async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}
