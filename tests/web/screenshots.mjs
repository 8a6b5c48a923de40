// The README's screenshots of the page (docs/screenshots/), taken in headless Chromium over a library of the sample
// photos analysed with every default task, text included; one of them, the astronaut with a caption ImageMagick
// writes under her, shows the three overlays at once (her face, the person the object detector sees, the caption's
// lines read by OCR).
//   node tests/web/screenshots.mjs --darkroom build/darkroom --models .models --shared ../shared --out docs/screenshots
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { launchBrowser, parseArgs, ROOT, sampleLibrary, tempDir } from './lib.mjs';

const args = parseArgs(process.argv.slice(2), {
  darkroom: path.join(ROOT, 'build/darkroom'),
  models: path.join(ROOT, '.models'),
  shared: path.join(ROOT, '../shared'),
  out: path.join(ROOT, 'docs/screenshots'),
});
const VIEWPORT = { width: 1280, height: 800 };

async function main() {
  const dir = tempDir('darkroom-shots-');
  const opts = { bin: path.resolve(args.darkroom), models: path.resolve(args.models), shared: path.resolve(args.shared) };
  const lib = await sampleLibrary({ ...opts, dir, tasks: 'pdq,thumbs,objects,faces,text', work: false });
  const convert = fs.existsSync('/usr/bin/convert') ? '/usr/bin/convert' : 'convert';
  const captioned = path.join(lib.photos, 'astronaut_caption.jpg');
  const r = spawnSync(convert, [
    '/usr/lib/python3/dist-packages/skimage/data/astronaut.png', '-background', '#f3efe6', '-gravity', 'south',
    '-splice', '0x120', '-font', 'DejaVu-Sans', '-fill', '#1d1d1d', '-pointsize', '34',
    '-annotate', '+0+62', 'Eileen Collins, STS-93', '-pointsize', '26', '-annotate', '+0+20', 'Kennedy Space Center, July 1999',
    captioned,
  ]);
  if (r.status !== 0) throw new Error(`convert failed: ${r.stderr}`);
  lib.dr.run(['add', '--tasks', 'pdq,thumbs,objects,faces,text', lib.photos]);
  await lib.dr.work(2);
  const server = await lib.dr.serve(['--no-work', '--root', lib.photos]);
  const browser = await launchBrowser();
  fs.mkdirSync(args.out, { recursive: true });
  const shot = async (page, name) => {
    const file = path.join(args.out, `${name}.png`);
    await page.screenshot({ path: file });
    console.log(`${file} (${Math.round(fs.statSync(file).size / 1024)} KB)`);
  };
  try {
    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    const people = await (await page.request.get(`${server.url}/api/people`)).json();
    const named = { astronaut: 'Eileen Collins', camera: 'The cameraman' };
    for (const p of people.people) {
      const key = Object.keys(named).find((k) => path.basename(p.photo).startsWith(k));
      if (key) await page.request.post(`${server.url}/api/people/${p.id}/name`, { headers: { 'X-Darkroom': '1' }, data: { name: named[key] } });
    }
    const allLoaded = () =>
      page.waitForFunction(() => [...document.images].every((i) => i.complete && (i.naturalWidth > 0 || i.classList.contains('missing'))));

    await page.goto(server.url);
    await page.waitForSelector('.grid a.cell img');
    await allLoaded();
    await shot(page, 'timeline');

    await page.click('.grid a.cell[title="astronaut_caption.jpg"]');
    await page.waitForSelector('.viewer .frame img');
    for (const layer of ['faces', 'objects', 'text']) await page.check(`.layers input[name="${layer}"]`);
    await allLoaded();
    await shot(page, 'photo');
    await page.keyboard.press('Escape');

    await page.goto(`${server.url}/people`);
    await page.waitForSelector('.people-grid .person img');
    await allLoaded();
    await shot(page, 'people');

    await page.goto(`${server.url}/dupes`);
    await page.waitForSelector('.dupe-group .card img');
    await page.waitForFunction(() => [...document.querySelectorAll('.dupe-group .bytes')].every((b) => b.textContent.trim()));
    await allLoaded();
    await shot(page, 'duplicates');

    await page.goto(`${server.url}/jobs`);
    await page.waitForSelector('.bar progress');
    await shot(page, 'jobs');

    const phone = await browser.newContext({ viewport: { width: 390, height: 780 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
    const p2 = await phone.newPage();
    await p2.goto(server.url);
    await p2.waitForSelector('.grid a.cell img');
    await p2.waitForFunction(() => [...document.images].every((i) => i.complete));
    const file = path.join(args.out, 'phone.png');
    await p2.screenshot({ path: file });
    console.log(`${file} (${Math.round(fs.statSync(file).size / 1024)} KB)`);
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exitCode = 1;
});
