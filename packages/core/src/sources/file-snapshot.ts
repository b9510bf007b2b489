import { open } from 'node:fs/promises';

/** The bytes of a file, or why it could not be read. @internal */
export type FileContent =
  | { readonly ok: true; readonly data: Buffer }
  | { readonly ok: false; readonly error: NodeJS.ErrnoException };

/** Largest credential or bundle file read (1 MiB): anything bigger is a misconfiguration. */
export const MAX_FILE_BYTES = 1024 * 1024;

function fileError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/**
 * Reads one regular file (symlinks followed), at most {@link MAX_FILE_BYTES}. Never throws: a
 * failure is returned as `{ ok: false }` so a caller can compare and report it once.
 *
 * @internal
 * @example
 * ```ts
 * const content = await readFileContent('/etc/tls/tls.crt');
 * if (content.ok) content.data.toString('utf8');
 * ```
 */
export async function readFileContent(path: string): Promise<FileContent> {
  try {
    const handle = await open(path, 'r');
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) return { ok: false, error: fileError('EINVAL', 'not a regular file') };
      if (stat.size > MAX_FILE_BYTES)
        return { ok: false, error: fileError('EFBIG', `larger than ${MAX_FILE_BYTES} bytes`) };
      const data = await handle.readFile();
      if (data.length > MAX_FILE_BYTES)
        return { ok: false, error: fileError('EFBIG', `larger than ${MAX_FILE_BYTES} bytes`) };
      return { ok: true, data };
    } finally {
      await handle.close();
    }
  } catch (error) {
    return { ok: false, error: error as NodeJS.ErrnoException };
  }
}

/** Reads several files, in order. @internal */
export function readFileContents(paths: readonly string[]): Promise<FileContent[]> {
  return Promise.all(paths.map(readFileContent));
}

/** Same bytes, or the same failure code. @internal */
export function sameContent(a: FileContent | undefined, b: FileContent | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.ok && b.ok) return a.data.equals(b.data);
  if (!a.ok && !b.ok) return a.error.code === b.error.code;
  return false;
}

/** Element-wise {@link sameContent}. @internal */
export function sameContents(a: readonly FileContent[], b: readonly FileContent[]): boolean {
  return a.length === b.length && a.every((c, i) => sameContent(c, b[i]));
}

/** A short, key-free description of a read failure: `ENOENT`, `EFBIG (larger than ...)`. @internal */
export function describeReadError(error: NodeJS.ErrnoException): string {
  return error.code ?? error.message;
}
