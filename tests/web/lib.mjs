// What the browser tests, the screenshots and the page's benchmark share: a library of real photos built with the
// darkroom binary, `darkroom serve` on a free loopback port, and Debian's Chromium driven by playwright-core (pinned
// in scripts/setup.sh, installed into .deps/web-test; it never downloads a browser).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = process.env.DARKROOM_CHROMIUM || '/usr/bin/chromium';
const SKIMAGE = '/usr/lib/python3/dist-packages/skimage/data';

// --name value pairs; a flag without a value is true.
export function parseArgs(argv, defaults = {}) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const name = a.slice(2);
    if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out[name] = argv[++i];
    else out[name] = true;
  }
  return out;
}

export async function loadPlaywright() {
  const entry = path.join(ROOT, '.deps/web-test/node_modules/playwright-core/index.mjs');
  if (!fs.existsSync(entry)) {
    throw new Error(`playwright-core is not installed in ${path.dirname(entry)}: run scripts/setup.sh`);
  }
  if (!fs.existsSync(CHROMIUM)) throw new Error(`there is no Chromium at ${CHROMIUM}: run scripts/setup.sh (Debian's chromium)`);
  return import(entry);
}

// Debian's Chromium, headless, with nothing that reaches out to the network by itself (on a closed network those
// connections are refused, and they would slow every test). Playwright gives it a fresh profile directory.
export async function launchBrowser() {
  const { chromium } = await loadPlaywright();
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // headless: true gives --headless; the rest keep Chromium from calling home.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-features=Translate,OptimizationHints,MediaRouter',
    ],
  });
}

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function run(cmd, args, { input } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}\n${r.stderr}`);
  return r.stdout;
}

function convert() {
  return fs.existsSync('/usr/bin/convert') ? '/usr/bin/convert' : 'convert';
}

// The sample photos: a cat (chelsea), two faces each seen twice (the astronaut and her mirror image, the cameraman
// and a smaller copy, so that `faces` forms two persons), a coffee cup, and the PDQ test set's bridge, rotated and
// mirrored eight ways (one duplicates group). Returns the file names.
export function samplePhotos(dir, shared) {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['chelsea.png', 'coffee.png', 'astronaut.png', 'camera.png']) fs.copyFileSync(path.join(SKIMAGE, f), path.join(dir, f));
  run(convert(), [path.join(SKIMAGE, 'astronaut.png'), '-flop', path.join(dir, 'astronaut_mirrored.png')]);
  run(convert(), [path.join(SKIMAGE, 'camera.png'), '-resize', '80%', path.join(dir, 'camera_small.png')]);
  const dih = path.join(shared, 'testdata/pdq/reg-test-input/dih');
  for (const f of fs.readdirSync(dih)) if (f.startsWith('bridge-')) fs.copyFileSync(path.join(dih, f), path.join(dir, f));
  return fs.readdirSync(dir).sort();
}

export class Darkroom {
  constructor({ bin, models, library }) {
    this.bin = bin;
    this.models = models;
    this.library = library;
  }
  argv(args) {
    return ['--library', this.library, '--models', this.models, ...args];
  }
  run(args) {
    return run(this.bin, this.argv(args));
  }
  json(args) {
    return JSON.parse(this.run(['--json', ...args]).trim().split('\n').pop());
  }
  // `darkroom work --until-idle`, as a child to wait for.
  work(threads = 1) {
    const child = spawn(this.bin, this.argv(['work', '--until-idle', '--threads', String(threads)]), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    return new Promise((resolve, reject) => {
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`darkroom work exited with ${code}\n${err}`))));
    });
  }
  // `darkroom serve --listen 127.0.0.1:0 --json ARGS`: resolves once its first line says where it listens.
  serve(args = []) {
    const child = spawn(this.bin, this.argv(['--json', 'serve', '--listen', '127.0.0.1:0', ...args]), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`darkroom serve did not start in 60 s\n${err}`)), 60000);
      child.on('exit', (code) => reject(new Error(`darkroom serve exited with ${code}\n${err}`)));
      readline.createInterface({ input: child.stdout }).once('line', (line) => {
        clearTimeout(timer);
        const first = JSON.parse(line);
        resolve({
          url: first.url.replace(/\/$/, ''),
          first,
          err: () => err,
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done();
              child.removeAllListeners('exit');
              child.on('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      });
    });
  }
}

// A library of the sample photos analysed with these tasks (or only queued, work = false).
export async function sampleLibrary({ bin, models, shared, dir, tasks = 'pdq,thumbs,objects,faces', work = true, threads = 2 }) {
  const photos = path.join(dir, 'photos');
  const names = samplePhotos(photos, shared);
  const dr = new Darkroom({ bin, models, library: path.join(dir, 'lib') });
  dr.run(['init']);
  dr.run(['add', '--tasks', tasks, photos]);
  if (work) await dr.work(threads);
  return { dr, photos, names };
}
