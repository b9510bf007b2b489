import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { PolicyError } from '../errors.js';
import { loadPolicies, mergePolicySets } from '../policy/load-policies.js';
import type { PolicySet } from '../policy/model.js';
import type { GuardOptions } from './options.js';
import { looksLikePolicyText } from './config-checks.js';

/** The `policies` option read once: the set, and what to watch when it came from files. */
export interface ResolvedPolicies {
  readonly set: PolicySet;
  /** Every file read, with its text, in load order: equal fingerprints mean nothing changed. */
  readonly fingerprint: string;
  /** Directories holding the file sources (and glob bases), for hot reload. */
  readonly watch: readonly { dir: string; recursive: boolean }[];
}

const GLOB_CHARS = /[*?[]/;

/** True when a `policies` string is a glob (`*`, `**`, `?`) rather than one file. */
export function isGlob(path: string): boolean {
  return GLOB_CHARS.test(path);
}

function globRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` matches zero or more directories; a trailing `**` anything.
      if (pattern[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The directory before the first glob segment, and the rest of the pattern. */
function splitGlob(pattern: string): { base: string; rest: string } {
  const segments = pattern.split('/');
  const first = segments.findIndex((s) => isGlob(s));
  const base = segments.slice(0, first).join('/') || (pattern.startsWith('/') ? '/' : '.');
  return { base, rest: segments.slice(first).join('/') };
}

async function walk(dir: string, recursive: boolean): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue; // also skips Kubernetes' `..data` symlink farm
    const path = join(dir, e.name);
    // Kubernetes mounts ConfigMap keys as symlinks: follow them.
    const kind = e.isSymbolicLink() ? await stat(path).catch(() => undefined) : e;
    if (kind?.isFile()) out.push(path);
    else if (recursive && kind?.isDirectory()) out.push(...(await walk(path, true)));
  }
  return out;
}

/** Files matching a glob, sorted (the load order, which decides which policy is reported first). */
export async function expandGlob(pattern: string): Promise<string[]> {
  const { base, rest } = splitGlob(pattern);
  const re = globRegex(rest);
  let files: string[];
  try {
    files = await walk(base, rest.includes('**') || rest.includes('/'));
  } catch (cause) {
    const code = (cause as { code?: string }).code ?? 'unknown error';
    throw new PolicyError('ERR_POLICY_FILE', `policy glob base cannot be read (${code})`, {
      file: pattern,
    });
  }
  const matched = files
    .filter((f) => re.test(relative(base, f).split(sep).join('/')))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (matched.length === 0)
    throw new PolicyError('ERR_POLICY_FILE', 'policy glob matches no file', { file: pattern });
  return matched;
}

async function readPolicyFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    const code = (cause as { code?: string }).code ?? 'unknown error';
    throw new PolicyError('ERR_POLICY_FILE', `policy file cannot be read (${code})`, { file });
  }
}

/**
 * Reads the `policies` option: YAML text and objects as given, file paths and globs from disk
 * (globs expanded in sorted order). Every document is validated.
 *
 * @throws {PolicyError} naming the file, document index and field path.
 */
export async function resolvePolicies(source: GuardOptions['policies']): Promise<ResolvedPolicies> {
  if (source === undefined) return { set: mergePolicySets([]), fingerprint: '', watch: [] };
  const items: (string | object)[] = Array.isArray(source)
    ? (source as (string | object)[])
    : [source];
  const watch: { dir: string; recursive: boolean }[] = [];
  const fingerprint: string[] = [];
  const sets: PolicySet[] = [];
  for (const item of items) {
    if (typeof item !== 'string' || looksLikePolicyText(item)) {
      sets.push(loadPolicies(item));
      continue;
    }
    const files = isGlob(item) ? await expandGlob(item) : [item];
    if (isGlob(item)) {
      const { base, rest } = splitGlob(item);
      watch.push({ dir: base, recursive: rest.includes('**') || rest.includes('/') });
    } else watch.push({ dir: dirname(item), recursive: false });
    for (const file of files) {
      const text = await readPolicyFile(file);
      fingerprint.push(`${file}\0${text}`);
      sets.push(loadPolicies(text, { file }));
    }
  }
  return { set: mergePolicySets(sets), fingerprint: fingerprint.join('\0\0'), watch };
}
