import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ConfigError, PolicyError } from '../errors.js';
import { importLinkerdPolicies, isLinkerdDocument } from '../policy/linkerd/linkerd-import.js';
import type { LinkerdImportOptions } from '../policy/linkerd/linkerd-model.js';
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

/** Linkerd documents found among the sources, imported once all are read. */
type LinkerdDocs = { docs: unknown[]; files: string[] };

/** Documents of one text, or undefined when the text holds no Linkerd document (the common case). */
function linkerdSplit(text: string): { linkerd: unknown[]; istio: unknown[] } | undefined {
  let docs: unknown[];
  try {
    docs = parseAllDocuments(text).map((d) => {
      const value: unknown = d.errors.length > 0 ? undefined : d.toJS();
      return value;
    });
  } catch {
    return undefined; // loadPolicies reports the YAML error with its location
  }
  if (!docs.some(isLinkerdDocument)) return undefined;
  return {
    linkerd: docs.filter(isLinkerdDocument),
    istio: docs.filter((d) => d !== null && d !== undefined && !isLinkerdDocument(d)),
  };
}

function loadOne(
  source: string | object,
  file: string | undefined,
  linkerd: LinkerdDocs,
): PolicySet {
  const split =
    typeof source === 'string'
      ? linkerdSplit(source)
      : isLinkerdDocument(source)
        ? { linkerd: [source], istio: [] }
        : Array.isArray(source) && source.some(isLinkerdDocument)
          ? {
              linkerd: (source as unknown[]).filter(isLinkerdDocument),
              istio: (source as unknown[]).filter((d) => !isLinkerdDocument(d)),
            }
          : undefined;
  if (!split) return loadPolicies(source, file ? { file } : {});
  linkerd.docs.push(...split.linkerd);
  if (file) linkerd.files.push(file);
  return loadPolicies(split.istio, file ? { file } : {});
}

/**
 * Reads the `policies` option: YAML text and objects as given, file paths and globs from disk
 * (globs expanded in sorted order). Every document is validated. Linkerd documents are imported
 * together (they refer to each other across files) with `linkerd`.
 *
 * @throws {PolicyError} naming the file, document index and field path.
 * @throws {ConfigError} when Linkerd documents come without `linkerd` context, or are mixed with
 *   Istio AuthorizationPolicies (their rules would be ORed with Linkerd's).
 */
export async function resolvePolicies(
  source: GuardOptions['policies'],
  linkerd?: Omit<LinkerdImportOptions, 'file'>,
): Promise<ResolvedPolicies> {
  if (source === undefined) return { set: mergePolicySets([]), fingerprint: '', watch: [] };
  const items: (string | object)[] = Array.isArray(source)
    ? (source as (string | object)[])
    : [source];
  const watch: { dir: string; recursive: boolean }[] = [];
  const fingerprint: string[] = [];
  const sets: PolicySet[] = [];
  const found: LinkerdDocs = { docs: [], files: [] };
  for (const item of items) {
    if (typeof item !== 'string' || looksLikePolicyText(item)) {
      sets.push(loadOne(item, undefined, found));
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
      sets.push(loadOne(text, file, found));
    }
  }
  if (found.docs.length > 0) {
    if (!linkerd) throw new ConfigError('Linkerd policy documents need the guard context');
    if (sets.some((s) => s.authorizationPolicies.length > 0))
      throw new ConfigError(
        'policies mix Linkerd documents with Istio AuthorizationPolicies: load one kind or the other',
      );
    const file = found.files.length > 0 ? found.files.join(', ') : undefined;
    sets.push(importLinkerdPolicies(found.docs, { ...linkerd, ...(file ? { file } : {}) }));
  }
  return { set: mergePolicySets(sets), fingerprint: fingerprint.join('\0\0'), watch };
}
