/**
 * `npm run bench:peers`: installs the peers the benchmarks compare Harmony with under
 * bench/peers/ (git-ignored), outside Harmony's own dependencies. Today that is n8n.
 *
 * n8n is installed with `--ignore-scripts`, then only its two native modules (sqlite3,
 * isolated-vm) are rebuilt against the Node 24 that Harmony ships as a devDependency, with
 * that Node first on PATH and the headers of the same Node as `--nodedir` (the machine's
 * npm config points nodedir at the system Node's headers, an older ABI). Running it again
 * does nothing when the right version is there and both native modules load.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** The n8n release benchmarked: 2.41.x needs a package version the registry lacks. */
export const N8N_VERSION = '2.39.10';
/** Where n8n is installed (its own package.json and node_modules). */
export const N8N_PEER_DIR = join(ROOT, 'bench/peers/n8n');
/** The n8n command line inside the peer folder. */
export const N8N_BIN = join(N8N_PEER_DIR, 'node_modules/n8n/bin/n8n');
/** The Node 24 binary of Harmony's `node` devDependency. */
export const NODE_24 = join(ROOT, 'node_modules/node/bin/node');
const NATIVE_MODULES = ['sqlite3', 'isolated-vm'] as const;

/** A failure with a message meant for the person at the terminal. */
class PeerInstallError extends Error {}

function log(line: string): void {
  console.log(`[bench:peers] ${line}`);
}

/** PATH with Node 24's folder first, so npm, node-gyp and install scripts all run on it. */
function pathWithNode24(): string {
  return [dirname(NODE_24), process.env.PATH ?? ''].join(':');
}

/** Runs a command inheriting the terminal, failing with the command line when it exits non-zero. */
function run(command: string, args: readonly string[], cwd: string, environment: Record<string, string> = {}): void {
  const assignments = Object.entries(environment).map(([name, value]) => `${name}=${value} `).join('');
  log(`$ (cd ${cwd} && ${assignments}${command} ${args.join(' ')})`);
  const result = spawnSync(command, args, { cwd, stdio: 'inherit', env: { ...process.env, ...environment, PATH: pathWithNode24() } });
  if (result.error !== undefined) throw new PeerInstallError(`could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) throw new PeerInstallError(`\`${command} ${args.join(' ')}\` exited with ${result.status ?? result.signal} in ${cwd}`);
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Written last, once n8n's native modules load: a half-finished install has none. */
const INSTALLED_MARKER = join(N8N_PEER_DIR, 'installed.json');

/** The n8n version in node_modules, finished or not. */
function n8nPackageVersion(): string | undefined {
  const version = readJson(join(N8N_PEER_DIR, 'node_modules/n8n/package.json'))?.version;
  return typeof version === 'string' ? version : undefined;
}

/** The n8n version a finished `npm run bench:peers` installed, if any. */
export function installedN8nVersion(): string | undefined {
  const version = readJson(INSTALLED_MARKER)?.n8n;
  return typeof version === 'string' && version === n8nPackageVersion() ? version : undefined;
}

/** Whether both native modules load under Node 24 from the peer folder. */
function nativeModulesLoad(): boolean {
  const probe = NATIVE_MODULES.map((name) => `require(${JSON.stringify(name)});`).join('');
  const result = spawnSync(NODE_24, ['-e', probe], { cwd: N8N_PEER_DIR, stdio: 'pipe', encoding: 'utf8' });
  if (result.status !== 0) log(`native modules do not load yet: ${(result.stderr ?? '').trim().split('\n').find((line) => line.includes('Error')) ?? 'exit ' + result.status}`);
  return result.status === 0;
}

/**
 * The headers of the Node 24 devDependency, as a folder with `include/node/common.gypi`:
 * the `node-<platform>-<arch>` package inside the `node` package, or, when an install pruned
 * it, the same package fetched with `npm pack` into bench/peers/.
 */
function node24Headers(): string {
  const nodeVersion = readJson(join(ROOT, 'node_modules/node/package.json'))?.version;
  if (typeof nodeVersion !== 'string') throw new PeerInstallError('node_modules/node is missing: run npm install in the repository first');
  const packageName = `node-${process.platform}-${process.arch}`;
  const shipped = join(ROOT, 'node_modules/node/node_modules', packageName);
  if (existsSync(join(shipped, 'include/node/common.gypi'))) return shipped;

  const fetched = join(ROOT, 'bench/peers', `${packageName}-${nodeVersion}`);
  if (existsSync(join(fetched, 'include/node/common.gypi'))) return fetched;
  log(`${shipped} has no headers; fetching ${packageName}@${nodeVersion} for them`);
  const packDir = join(ROOT, 'bench/peers');
  mkdirSync(packDir, { recursive: true });
  run('npm', ['pack', `${packageName}@${nodeVersion}`, '--pack-destination', packDir, '--loglevel=warn'], packDir);
  const tarball = readdirSync(packDir).find((name) => name === `${packageName}-${nodeVersion}.tgz`);
  if (tarball === undefined) throw new PeerInstallError(`npm pack left no ${packageName}-${nodeVersion}.tgz in ${packDir}`);
  rmSync(fetched, { recursive: true, force: true });
  mkdirSync(fetched, { recursive: true });
  // Only the headers: the package also holds a 120 MB node binary the rebuild does not need.
  run('tar', ['-xzf', join(packDir, tarball), '-C', fetched, '--strip-components=1', 'package/include', 'package/package.json'], packDir);
  rmSync(join(packDir, tarball));
  if (!existsSync(join(fetched, 'include/node/common.gypi'))) throw new PeerInstallError(`${packageName}@${nodeVersion} has no include/node/common.gypi`);
  return fetched;
}

function markInstalled(): void {
  const node = spawnSync(NODE_24, ['--version'], { encoding: 'utf8' }).stdout.trim();
  writeFileSync(INSTALLED_MARKER, `${JSON.stringify({ n8n: N8N_VERSION, node, nativeModules: NATIVE_MODULES })}\n`);
}

/** Installs n8n unless the right version is already there with working native modules. */
export function installN8n(): void {
  if (!existsSync(NODE_24)) throw new PeerInstallError(`${NODE_24} is missing: run npm install in the repository first`);
  const installed = n8nPackageVersion();
  if (installed === N8N_VERSION && nativeModulesLoad()) {
    markInstalled();
    log(`n8n ${N8N_VERSION} is already installed in ${N8N_PEER_DIR} and its native modules load: nothing to do`);
    return;
  }
  rmSync(INSTALLED_MARKER, { force: true });
  if (installed !== N8N_VERSION) {
    log(installed === undefined ? `installing n8n ${N8N_VERSION} into ${N8N_PEER_DIR}` : `replacing n8n ${installed} with ${N8N_VERSION}`);
    mkdirSync(N8N_PEER_DIR, { recursive: true });
    writeFileSync(
      join(N8N_PEER_DIR, 'package.json'),
      `${JSON.stringify({ name: 'harmony-bench-peer-n8n', private: true, description: 'n8n for the peer benchmark (npm run bench:peers); not a Harmony dependency', dependencies: { n8n: N8N_VERSION } }, null, 2)}\n`,
    );
    run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', `n8n@${N8N_VERSION}`], N8N_PEER_DIR);
    if (n8nPackageVersion() !== N8N_VERSION) throw new PeerInstallError(`npm install finished but node_modules/n8n is not ${N8N_VERSION}`);
  }
  const nodedir = node24Headers();
  log(`rebuilding ${NATIVE_MODULES.join(', ')} for Node ${readJson(join(nodedir, 'package.json'))?.version ?? '24'} (headers: ${nodedir}); this compiles C++ and takes minutes`);
  // npm 11 warns that nodedir is not its own setting; the variable reaches node-gyp whatever npm does with the flag.
  run('npm', ['rebuild', ...NATIVE_MODULES, `--nodedir=${nodedir}`], N8N_PEER_DIR, { npm_config_nodedir: nodedir });
  if (!nativeModulesLoad()) throw new PeerInstallError(`the rebuilt ${NATIVE_MODULES.join(' and ')} still do not load under ${NODE_24}`);
  markInstalled();
  log(`n8n ${N8N_VERSION} installed in ${N8N_PEER_DIR}; run it with ${NODE_24} ${N8N_BIN}`);
}

if (import.meta.main) {
  try {
    installN8n();
  } catch (error) {
    console.error(`[bench:peers] failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
