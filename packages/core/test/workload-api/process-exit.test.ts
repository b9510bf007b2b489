import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startWorkloadAgent } from '@meshless/testing';
import { expect, it } from 'vitest';
import { createPki } from './fixtures.js';

/**
 * Runs the real client in a separate Node process (the TypeScript sources, transpiled on load by
 * a tiny loader hook) and checks that the process exits by itself after `close()`: no socket,
 * timer or gRPC channel may keep the event loop alive.
 */
const typescriptUrl = pathToFileURL(
  createRequire(import.meta.url).resolve('typescript', {
    paths: [new URL('../../../../', import.meta.url).pathname],
  }),
).href;

const LOADER = `
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
const ts = createRequire(import.meta.url)(fileURLToPath(${JSON.stringify(typescriptUrl)}));
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    if (error?.code === 'ERR_MODULE_NOT_FOUND' && specifier.startsWith('.') && specifier.endsWith('.js'))
      return next(specifier.slice(0, -3) + '.ts', context);
    throw error;
  }
}
export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const source = await readFile(fileURLToPath(url), 'utf8');
  const out = ts.transpileModule(source, {
    fileName: fileURLToPath(url),
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
`;

const REGISTER = `
import { register } from 'node:module';
register(new URL('./loader.mjs', import.meta.url));
`;

const CHILD = `
const { createWorkloadX509Source } = await import(${JSON.stringify(
  new URL('../../src/workload-api/index.ts', import.meta.url).href,
)});
const source = await createWorkloadX509Source({ address: process.argv[2] });
console.log(source.getX509Svid().id.toString());
const events = [];
source.subscribe((e) => events.push(e.type));
await new Promise((r) => setTimeout(r, 200));
console.log(events.join(','));
source.close();
`;

it('a process using the client exits on its own after close()', async () => {
  const pki = await createPki();
  const agent = await startWorkloadAgent({
    x509Context: { svids: [await pki.issue('/child')], bundles: { 'td.test': pki.ca.rootDer } },
  });
  const dir = await mkdtemp(join(tmpdir(), 'meshless-exit-'));
  try {
    await writeFile(join(dir, 'loader.mjs'), LOADER);
    await writeFile(join(dir, 'register.mjs'), REGISTER);
    await writeFile(join(dir, 'child.mjs'), CHILD);
    const child = spawn(
      process.execPath,
      [
        '--import',
        pathToFileURL(join(dir, 'register.mjs')).href,
        join(dir, 'child.mjs'),
        agent.address,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    const next = await pki.issue('/child');
    child.stdout.on('data', (d: Buffer) => {
      const first = !stdout.includes('\n');
      stdout += d.toString();
      // Once the child has its SVID, rotate: it must see the update before closing.
      if (first && stdout.includes('\n')) agent.rotate([next]);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('did not exit within 15 s');
      }, 15_000);
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode ?? -1);
      });
    });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout.split('\n').slice(0, 2)).toEqual(['spiffe://td.test/child', 'updated']);
  } finally {
    await agent.close();
    await rm(dir, { recursive: true, force: true });
  }
}, 30_000);
