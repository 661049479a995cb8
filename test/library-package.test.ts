/**
 * The constructs library as a platform team gets it: `npm run package` builds the npm tarball and
 * the Python wheel; fresh apps holding nothing but aws-cdk-lib and constructs (at the floor of the
 * peer range, which npm and PyPI both serve) install them and synthesize the apps in examples/, from
 * JavaScript, TypeScript (tsc strict) and Python. The README shows those same files.
 *
 * About two minutes on two cores: the build (~30 s), an npm install from the npm cache, and a
 * Python virtualenv with aws-cdk-lib kept in ~/.cache/platform-library (the first run fills it).
 */
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(__dirname, '..');
const examples = path.join(root, 'examples');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'library-package-'));
const cache = path.join(os.homedir(), '.cache', 'platform-library');
const MINUTES = 60_000;

/** Construct class -> [its id in examples' every-construct apps, a resource type it must create]. */
const EVERY_CONSTRUCT: Record<string, [string, string]> = {
  AssetBuckets: ['Buckets', 'AWS::S3::Bucket'],
  Cdn: ['Cdn', 'AWS::CloudFront::Distribution'],
  DataBackup: ['Backup', 'AWS::Backup::BackupPlan'],
  EdgeWebAcl: ['WebAcl', 'AWS::WAFv2::WebACL'],
  EncryptedBackupVault: ['Vault', 'AWS::Backup::BackupVault'],
  EncryptionKey: ['Key', 'AWS::KMS::Key'],
  ManagedPrometheus: ['Metrics', 'AWS::APS::Scraper'],
  MysqlDatabase: ['Database', 'AWS::RDS::DBInstance'],
  PlatformCluster: ['Cluster', 'AWS::EKS::Cluster'],
  RedisCluster: ['Redis', 'AWS::ElastiCache::ReplicationGroup'],
  SearchDomain: ['Search', 'AWS::OpenSearchService::Domain'],
  StickyLoadBalancer: ['Alb', 'AWS::ElasticLoadBalancingV2::LoadBalancer'],
};

const env = {
  ...process.env,
  // Path metadata lets the assertions find each construct's resources; asset staging would copy ~57 MB of layers per synth.
  CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:enable-path-metadata': true, 'aws:cdk:disable-asset-staging': true }),
  JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: process.versions.node.split('.')[0],
};

async function run(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(file, args, { cwd: options.cwd ?? root, env: options.env ?? env, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (e: any) {
    throw new Error(`${[file, ...args].join(' ')} failed:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`);
  }
}

interface Template { Resources: Record<string, { Type: string; Properties?: any; Metadata?: Record<string, string> }> }

/** Runs an app that synthesizes into CDK_OUTDIR (as the CDK CLI would) and returns the stack's template. */
async function synth(command: string, args: string[], cwd: string, stack: string): Promise<Template> {
  const outdir = fs.mkdtempSync(path.join(work, 'cdk.out-'));
  await run(command, args, { cwd, env: { ...env, CDK_OUTDIR: outdir } });
  return JSON.parse(fs.readFileSync(path.join(outdir, `${stack}.template.json`), 'utf8'));
}

/** Resource types created under the construct `id` at the top of `stack`. */
function typesUnder(template: Template, stack: string, id: string): string[] {
  return Object.values(template.Resources)
    .filter((r) => r.Metadata?.['aws:cdk:path']?.startsWith(`${stack}/${id}/`))
    .map((r) => r.Type);
}

function resourceUnder(template: Template, stack: string, id: string, type: string) {
  const found = Object.values(template.Resources).find((r) => r.Type === type && r.Metadata?.['aws:cdk:path']?.startsWith(`${stack}/${id}/`));
  if (!found) throw new Error(`no ${type} under ${stack}/${id}`);
  return found;
}

/** `^2.275.0` -> `2.275.0`. */
const floorOf = (range: string) => /^\^(\d+\.\d+\.\d+)$/.exec(range)![1];

interface Package {
  tarball: string;
  wheel: string;
  manifest: any;
  entries: string[];
  assembly: any;
  declarations: Record<string, string>;
}

async function buildPackage(): Promise<Package> {
  const outdir = path.join(work, 'package');
  await run(process.execPath, [path.join(root, 'scripts', 'package.js'), outdir]);
  const artifact = (ext: string) => path.join(outdir, fs.readdirSync(outdir).find((f) => f.endsWith(ext))!);
  const tarball = artifact('.tgz');
  const unpacked = path.join(work, 'unpacked');
  fs.mkdirSync(unpacked);
  await run('tar', ['xzf', tarball, '-C', unpacked]);
  const entries = (await run('tar', ['tzf', tarball])).split('\n').filter(Boolean).map((e) => e.replace(/^package\//, '')).sort();
  const read = (file: string) => fs.readFileSync(path.join(unpacked, 'package', file), 'utf8');
  return {
    tarball,
    wheel: artifact('.whl'),
    manifest: JSON.parse(read('package.json')),
    entries,
    assembly: JSON.parse(read('.jsii')),
    declarations: Object.fromEntries(entries.filter((e) => e.endsWith('.d.ts')).map((e) => [e, read(e)])),
  };
}

/** A Node.js CDK app with the tarball, aws-cdk-lib and constructs; the examples synthesized from JavaScript and TypeScript. */
async function nodeConsumer(pkg: Package) {
  const app = path.join(work, 'node-app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  const peers = Object.entries<string>(pkg.manifest.peerDependencies).map(([name, range]) => `${name}@${floorOf(range)}`);
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--save-exact', pkg.tarball, ...peers], { cwd: app });
  const installed = fs.readdirSync(path.join(app, 'node_modules')).filter((f) => !f.startsWith('.'));

  for (const file of fs.readdirSync(path.join(examples, 'javascript'))) fs.copyFileSync(path.join(examples, 'javascript', file), path.join(app, file));
  const javascript = {
    app: await synth(process.execPath, ['app.js'], app, 'Cache'),
    every: await synth(process.execPath, ['every-construct.js'], app, 'Platform'),
  };
  const sameClass = await run(process.execPath, ['-p', "require('eks-microservices-platform/lib/constructs/redis-cluster').RedisCluster === require('eks-microservices-platform').RedisCluster"], { cwd: app });

  // tsc strict, NodeNext (the `exports` map) as `cdk init` sets it, and the library's .d.ts checked too (no skipLibCheck).
  const tsDir = path.join(app, 'ts');
  fs.mkdirSync(tsDir);
  for (const file of fs.readdirSync(path.join(examples, 'typescript'))) fs.copyFileSync(path.join(examples, 'typescript', file), path.join(tsDir, file));
  fs.writeFileSync(path.join(tsDir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      lib: ['es2022', 'esnext.disposable'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noImplicitReturns: true,
      noUnusedLocals: true,
      noUnusedParameters: true,
      skipLibCheck: false,
      outDir: 'build',
    },
    include: ['*.ts'],
  }));
  await run(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', tsDir], { cwd: tsDir });
  const typescript = {
    app: await synth(process.execPath, ['build/app.js'], tsDir, 'Cache'),
    every: await synth(process.execPath, ['build/every-construct.js'], tsDir, 'Platform'),
  };
  return { installed, javascript, typescript, sameClass: sameClass.trim() };
}

/** A virtualenv with aws-cdk-lib from PyPI at the peer floor (kept in the cache) and the wheel; the Python example synthesized. */
async function pythonConsumer(pkg: Package) {
  const floor = floorOf(pkg.manifest.peerDependencies['aws-cdk-lib']);
  const interpreter = (await run('python3', ['-c', 'import os, sys; print(os.path.realpath(sys.executable), sys.version)'])).trim();
  const key = crypto.createHash('sha256').update(`${interpreter}\naws-cdk-lib==${floor}`).digest('hex').slice(0, 12);
  const venv = path.join(cache, `python-venv-${key}`);
  const python = path.join(venv, 'bin', 'python');
  if (!fs.existsSync(path.join(venv, '.ready'))) {
    fs.rmSync(venv, { recursive: true, force: true });
    await run('python3', ['-m', 'venv', venv]);
    await run(python, ['-m', 'pip', 'install', '--quiet', `aws-cdk-lib==${floor}`]);
    fs.writeFileSync(path.join(venv, '.ready'), `${interpreter}\naws-cdk-lib==${floor}\n`);
  }
  await run(python, ['-m', 'pip', 'uninstall', '--quiet', '--yes', pkg.manifest.jsii.targets.python.distName]);
  await run(python, ['-m', 'pip', 'install', '--quiet', pkg.wheel]);
  const requires = (await run(python, ['-c', `import importlib.metadata as m; print("\\n".join(m.requires(${JSON.stringify(pkg.manifest.jsii.targets.python.distName)})))`])).split('\n').filter(Boolean);
  const awsCdkLib = (await run(python, ['-c', 'import importlib.metadata as m; print(m.version("aws-cdk-lib"))'])).trim();
  const app = path.join(work, 'python-app');
  fs.mkdirSync(app);
  fs.copyFileSync(path.join(examples, 'python', 'app.py'), path.join(app, 'app.py'));
  return { requires, awsCdkLib, template: await synth(python, ['app.py'], app, 'Data') };
}

let pkg: Promise<Package>;
let node: ReturnType<typeof nodeConsumer>;
let python: ReturnType<typeof pythonConsumer>;

beforeAll(() => {
  pkg = buildPackage();
  // The two consumers share nothing: they run side by side once the package is built.
  node = pkg.then(nodeConsumer);
  python = pkg.then(pythonConsumer);
  for (const p of [pkg, node, python]) p.catch(() => undefined); // reported by the tests that await them
});

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

describe('the npm tarball', () => {
  test('holds the compiled library, its declarations and the jsii assembly, nothing else', async () => {
    const { entries, tarball } = await pkg;
    const sources = fs.readdirSync(path.join(root, 'lib', 'constructs')).filter((f) => f.endsWith('.ts')).map((f) => `lib/constructs/${f.slice(0, -3)}`);
    const expected = [...sources, 'lib/compliance'].flatMap((m) => [`${m}.js`, `${m}.d.ts`]).concat('.jsii', 'package.json', 'README.md').sort();
    expect(entries).toEqual(expected);
    const size = (await run('tar', ['tzvf', tarball])).split('\n').filter(Boolean).reduce((sum, line) => sum + Number(line.split(/\s+/)[2]), 0);
    console.log(`npm tarball ${path.basename(tarball)}: ${entries.length} files, ${(size / 1024).toFixed(0)} KiB unpacked, ${(fs.statSync(tarball).size / 1024).toFixed(0)} KiB packed`);
  }, 10 * MINUTES);

  test('its manifest: entry points, aws-cdk-lib and constructs as peers, no rule-pack package', async () => {
    const { manifest } = await pkg;
    expect(manifest).toMatchObject({
      main: 'lib/constructs/index.js',
      types: 'lib/constructs/index.d.ts',
      exports: { '.': { types: './lib/constructs/index.d.ts', default: './lib/constructs/index.js' } },
      peerDependencies: { 'aws-cdk-lib': expect.stringMatching(/^\^2\./), constructs: expect.stringMatching(/^\^10\./) },
    });
    expect(Object.keys(manifest.dependencies)).toEqual(['@aws-cdk/lambda-layer-kubectl-v35']);
    expect(manifest.scripts).toBeUndefined();
    const { dependencies, peerDependencies, devDependencies, optionalDependencies, bundleDependencies } = manifest;
    expect(JSON.stringify({ dependencies, peerDependencies, devDependencies, optionalDependencies, bundleDependencies })).not.toMatch(/cdk-nag|cfnguard|cdk8s/);
  }, 10 * MINUTES);

  test('every construct class of the assembly is synthesized below, and named in the README', async () => {
    const { assembly } = await pkg;
    const classes = Object.values<any>(assembly.types).filter((t) => t.kind === 'class').map((t) => t.name).sort();
    expect(classes).toEqual(Object.keys(EVERY_CONSTRUCT).sort());
    const readmeList = /^Constructs: ([\s\S]*?)\n\n/m.exec(fs.readFileSync(path.join(root, 'README.md'), 'utf8'))![1];
    for (const name of classes) expect(readmeList).toContain(`\`${name}\``);
  }, 10 * MINUTES);

  test('props are jsii structs: no string-literal unions or callbacks (Python could not type them)', async () => {
    const { declarations } = await pkg;
    const offending: string[] = [];
    for (const [file, text] of Object.entries(declarations)) {
      for (const [, name, body] of text.matchAll(/export interface (\w+)[^{]*\{([\s\S]*?)\n\}/g)) {
        for (const [, member, type] of body.matchAll(/readonly (\w+)\??: ([^;]+);/g)) {
          if (/['"]|=>/.test(type)) offending.push(`${file}: ${name}.${member}: ${type}`);
        }
      }
    }
    expect(offending).toEqual([]);
  }, 10 * MINUTES);
});

describe('a Node.js CDK app with only aws-cdk-lib and constructs', () => {
  test('installs the tarball without any rule-pack package', async () => {
    const { installed } = await node;
    expect(installed.sort()).toEqual(['@aws-cdk', 'aws-cdk-lib', 'constructs', 'eks-microservices-platform']);
  }, 10 * MINUTES);

  test.each(['javascript', 'typescript'] as const)('%s: the README example synthesizes RedisCluster', async (language) => {
    const template = (await node)[language].app;
    const group = resourceUnder(template, 'Cache', 'Sessions', 'AWS::ElastiCache::ReplicationGroup');
    expect(group.Properties).toMatchObject({ NumNodeGroups: 2, ReplicasPerNodeGroup: 1, TransitEncryptionEnabled: true });
    expect(typesUnder(template, 'Cache', 'Sessions').filter((t) => t === 'AWS::EC2::SecurityGroupIngress')).toHaveLength(2);
  }, 10 * MINUTES);

  test.each(['javascript', 'typescript'] as const)('%s: every construct synthesizes, each with its main resource', async (language) => {
    const template = (await node)[language].every;
    const missing = Object.entries(EVERY_CONSTRUCT).filter(([, [id, type]]) => !typesUnder(template, 'Platform', id).includes(type));
    expect(missing).toEqual([]);
  }, 10 * MINUTES);

  test('the deep import path is the same module as the entry', async () => {
    expect((await node).sameClass).toBe('true');
  }, 10 * MINUTES);
});

describe('a Python CDK app with aws-cdk-lib from PyPI', () => {
  test('installs the wheel against the peer floor of aws-cdk-lib', async () => {
    const [{ manifest }, { requires, awsCdkLib }] = await Promise.all([pkg, python]);
    const floor = floorOf(manifest.peerDependencies['aws-cdk-lib']);
    expect(awsCdkLib).toBe(floor);
    expect(requires).toContainEqual(expect.stringMatching(new RegExp(`^aws-cdk-lib.*>=${floor.replace(/\./g, '\\.')}`)));
    expect(requires.join('\n')).not.toMatch(/cdk-nag|cfnguard/);
  }, 10 * MINUTES);

  test('synthesizes RedisCluster and MysqlDatabase', async () => {
    const { template } = await python;
    expect(resourceUnder(template, 'Data', 'Sessions', 'AWS::ElastiCache::ReplicationGroup').Properties)
      .toMatchObject({ Engine: 'valkey', NumNodeGroups: 2, TransitEncryptionEnabled: true });
    expect(resourceUnder(template, 'Data', 'Orders', 'AWS::RDS::DBInstance').Properties)
      .toMatchObject({ Engine: 'mysql', DBName: 'orders', MultiAZ: false, StorageEncrypted: true });
    expect(typesUnder(template, 'Data', 'Orders').filter((t) => t === 'AWS::EC2::SecurityGroupIngress')).toHaveLength(2);
  }, 10 * MINUTES);
});

test('the README shows the examples these tests run, verbatim', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  for (const [fence, file] of [['ts', 'typescript/app.ts'], ['js', 'javascript/app.js'], ['python', 'python/app.py']]) {
    expect(readme).toContain(`\`\`\`${fence}\n${fs.readFileSync(path.join(examples, file), 'utf8')}\`\`\``);
  }
});
