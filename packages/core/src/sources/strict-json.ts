/** Why a JSON document was refused. @internal */
export class StrictJsonError extends Error {
  /** For a duplicate member: the member names leading to its object (array levels as `[]`). */
  readonly duplicatePath: readonly string[] | undefined;
  constructor(message: string, duplicatePath?: readonly string[]) {
    super(message);
    this.duplicatePath = duplicatePath;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

interface Frame {
  /** Member names seen so far; null for an array. */
  readonly names: Set<string> | null;
  /** The member name this container is the value of (`[]` inside an array, `''` at the top). */
  readonly key: string;
}

/**
 * Finds the first member name that occurs twice in one object of a valid JSON text, compared after
 * unescaping (`"a.test"` and `"a\u002etest"` are the same name).
 */
function findDuplicateMember(text: string): { name: string; path: string[] } | undefined {
  const stack: Frame[] = [];
  let expectName = false;
  let lastName = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.names && expectName) {
        const name = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.names.has(name)) return { name, path: stack.slice(1).map((f) => f.key) };
        top.names.add(name);
        lastName = name;
        expectName = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      const parent = stack[stack.length - 1];
      const key = parent === undefined ? '' : parent.names ? lastName : '[]';
      stack.push({ names: c === '{' ? new Set() : null, key });
      expectName = c === '{';
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectName = false;
    } else if (c === ',') {
      expectName = stack[stack.length - 1]?.names != null;
    }
  }
  return undefined;
}

/**
 * Parses JSON strictly: valid UTF-8 (bytes), valid JSON, and no object with the same member twice
 * (`JSON.parse` silently keeps the last one, which would let a document carry two different
 * bundles for one trust domain: x509-svid-rules.md C5).
 *
 * @internal
 * @throws {StrictJsonError}
 * @example
 * ```ts
 * parseStrictJson('{"a":1,"a":2}'); // throws: duplicate member "a"
 * ```
 */
export function parseStrictJson(document: string | Uint8Array): unknown {
  let text: string;
  try {
    text = typeof document === 'string' ? document : utf8.decode(document);
  } catch {
    throw new StrictJsonError('document is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new StrictJsonError(`document is not valid JSON (${(error as Error).name})`);
  }
  const duplicate = findDuplicateMember(text);
  if (duplicate !== undefined) {
    const shown = JSON.stringify(duplicate.name.slice(0, 80));
    throw new StrictJsonError(
      `document has the member ${shown} twice in one object`,
      duplicate.path,
    );
  }
  return value;
}
