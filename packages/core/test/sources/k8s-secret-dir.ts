import { mkdir, mkdtemp, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A directory laid out like a Kubernetes Secret volume (kubelet's AtomicWriter): the payload lives
 * in a timestamped directory `..2026_…`, `..data` is a symlink to it, and each visible file is a
 * symlink `name -> ..data/name`. {@link swap} writes a new timestamped directory, points a new
 * symlink `..data_tmp` at it and renames that over `..data` (one atomic rename), then removes the
 * old directory, as the kubelet does.
 */
export interface K8sSecretDir {
  readonly dir: string;
  path(name: string): string;
  swap(files: Record<string, string>): Promise<void>;
  remove(): Promise<void>;
}

let counter = 0;

function stamp(): string {
  counter += 1;
  return `..2026_05_01_12_00_00.${String(process.pid)}${String(counter).padStart(6, '0')}`;
}

async function writePayload(dir: string, files: Record<string, string>): Promise<string> {
  const name = stamp();
  await mkdir(join(dir, name));
  for (const [file, content] of Object.entries(files))
    await writeFile(join(dir, name, file), content);
  return name;
}

export async function createK8sSecretDir(files: Record<string, string>): Promise<K8sSecretDir> {
  const dir = await mkdtemp(join(tmpdir(), 'meshless-k8s-'));
  const first = await writePayload(dir, files);
  await symlink(first, join(dir, '..data'));
  for (const file of Object.keys(files)) await symlink(join('..data', file), join(dir, file));
  return {
    dir,
    path: (name) => join(dir, name),
    async swap(next) {
      const old = await readlink(join(dir, '..data'));
      const name = await writePayload(dir, next);
      await symlink(name, join(dir, '..data_tmp'));
      await rename(join(dir, '..data_tmp'), join(dir, '..data'));
      await rm(join(dir, old), { recursive: true, force: true });
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
