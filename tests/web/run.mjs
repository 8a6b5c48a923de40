// The page in a real browser: Debian's Chromium, driven by playwright-core, on a real `darkroom serve` over a
// library of the sample photos (tests/web/lib.mjs). Run by CTest (web_page) and so by `make test`:
//   node tests/web/run.mjs --darkroom build/darkroom --models .models --shared ../shared --out build/web-test
// A failing test saves a screenshot of the page under --out/failures/. --only NAME runs the tests whose names
// contain NAME.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Darkroom, launchBrowser, parseArgs, ROOT, sampleLibrary, tempDir } from './lib.mjs';

const args = parseArgs(process.argv.slice(2), {
  darkroom: path.join(ROOT, 'build/darkroom'),
  models: path.join(ROOT, '.models'),
  shared: path.join(ROOT, '../shared'),
  out: path.join(ROOT, 'build/web-test'),
});
const WAIT = 20000;

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

// The names of the photos the timeline shows, scrolling it from top to bottom (only what is near the screen is in
// the page, so the cells are read as they pass).
async function timelineNames(page) {
  const seen = new Set();
  await page.evaluate(() => window.scrollTo(0, 0));
  for (let step = 0; step < 200; step++) {
    for (const t of await page.$$eval('.grid a.cell', (cells) => cells.map((c) => c.title))) seen.add(t);
    const end = await page.evaluate(() => {
      const atBottom = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2;
      window.scrollBy(0, window.innerHeight * 0.7);
      return atBottom && !document.querySelector('.more');
    });
    if (end) break;
    await page.waitForTimeout(50);
  }
  return seen;
}

async function search(page, words) {
  await page.fill('#q', words);
  await page.press('#q', 'Enter');
  await page.waitForFunction((w) => document.querySelector('#search-title')?.textContent.includes(w), words, { timeout: WAIT });
  await page.waitForSelector('.search .count:not(:empty)');
  await page.waitForFunction(() => !document.querySelector('.search .count').textContent.includes('Searching'), null, { timeout: WAIT });
  return page.$$eval('.results .card', (cards) =>
    cards.map((c) => ({
      name: c.querySelector('.name').textContent,
      matched: [...c.querySelectorAll('.matched li')].map((li) => li.textContent),
    }))
  );
}

async function peopleCards(page) {
  await page.waitForSelector('.people-grid .person', { timeout: WAIT });
  return page.$$eval('.people-grid .person', (cards) =>
    cards.map((c) => ({ id: Number(c.dataset.person), name: c.querySelector('.pname').textContent }))
  );
}

test("index.html preloads every module of the page, so its scripts arrive in one round", async ({ page, ctx }) => {
  const web = path.join(ROOT, 'web');
  const modules = fs.readdirSync(web, { recursive: true }).filter((f) => f.endsWith('.js') && f !== 'boot.js');
  await page.goto(ctx.url);
  await page.waitForSelector('.grid a.cell', { timeout: WAIT });
  const preloaded = await page.$$eval('link[rel="modulepreload"]', (ls) => ls.map((l) => new URL(l.href).pathname));
  for (const m of modules) assert.ok(preloaded.includes(`/${m}`), `index.html does not preload /${m}`);
  // And each of them is what the server sends.
  for (const m of modules) assert.equal(await (await page.request.get(`${ctx.url}/${m}`)).text(), fs.readFileSync(path.join(web, m), 'utf8'));
});

test('the grid shows every photo, with its thumbnail', async ({ page, ctx }) => {
  await page.goto(ctx.url);
  await page.waitForSelector('.grid a.cell img', { timeout: WAIT });
  const seen = await timelineNames(page);
  assert.deepEqual([...seen].sort(), ctx.names);
  // The thumbnails on screen are real pictures, drawn in the cells the list's sizes made for them.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForFunction(
    () => [...document.querySelectorAll('.grid a.cell img')].every((i) => i.complete && i.naturalWidth > 0),
    null,
    { timeout: WAIT }
  );
  const sizes = await page.$$eval('.grid a.cell', (cells) => cells.map((c) => [c.offsetWidth, c.offsetHeight]));
  for (const [w, h] of sizes) assert.ok(w > 40 && h > 40, `a cell of ${w} x ${h}`);
  const count = await page.textContent('.timeline .count');
  assert.match(count, new RegExp(`^${ctx.names.length} photos`));
});

test('on a phone-sized screen the grid fits the width', async ({ newPage, ctx }) => {
  const page = await newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await page.goto(ctx.url);
  await page.waitForSelector('.grid a.cell img', { timeout: WAIT });
  const seen = await timelineNames(page);
  assert.equal(seen.size, ctx.names.length);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
  const right = await page.$$eval('.grid a.cell', (cells) => Math.max(...cells.map((c) => c.getBoundingClientRect().right)));
  assert.ok(right <= 390, `a cell ends at ${right} px`);
});

test('searching cat shows chelsea.png first, saying why', async ({ page, ctx }) => {
  await page.goto(ctx.url);
  const results = await search(page, 'cat');
  assert.ok(results.length >= 1, 'no results');
  assert.equal(results[0].name, 'chelsea.png');
  assert.ok(results[0].matched.some((m) => m.includes('cat')), `matched: ${results[0].matched}`);
});

test('a photo opens large with its overlays, and the arrow keys move', async ({ page, ctx }) => {
  await page.goto(ctx.url);
  await page.waitForSelector('.grid a.cell img', { timeout: WAIT });
  await page.click('.grid a.cell[title="chelsea.png"]');
  await page.waitForSelector('.viewer[aria-label="chelsea.png"] .frame img', { timeout: WAIT });
  await page.waitForFunction(() => document.querySelector('.viewer .frame img').naturalWidth > 0, null, { timeout: WAIT });
  assert.match(page.url(), /\?photo=\d+$/);
  await page.check('.layers input[name="objects"]');
  const labels = await page.$$eval('.box.object .label', (l) => l.map((x) => x.textContent));
  assert.ok(labels.some((l) => l.startsWith('cat ')), `object labels: ${labels}`);
  // The cat's box lies inside the photo's frame.
  const [frame, box] = await Promise.all(['.viewer .frame', '.box.object'].map((s) => page.$eval(s, (e) => e.getBoundingClientRect().toJSON())));
  assert.ok(box.left >= frame.left - 1 && box.right <= frame.right + 1 && box.top >= frame.top - 1 && box.bottom <= frame.bottom + 1);
  const before = await page.getAttribute('.viewer', 'aria-label');
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction((b) => document.querySelector('.viewer').getAttribute('aria-label') !== b, before, { timeout: WAIT });
  await page.keyboard.press('ArrowLeft');
  await page.waitForSelector('.viewer[aria-label="chelsea.png"]', { timeout: WAIT });
  await page.keyboard.press('Escape');
  await page.waitForSelector('.viewer', { state: 'detached', timeout: WAIT });
  // The focus is back on the photo's cell.
  assert.equal(await page.evaluate(() => document.activeElement.title), 'chelsea.png');
  // The astronaut's face box is named by her person.
  await page.click('.grid a.cell[title="astronaut.png"]');
  await page.check('.layers input[name="faces"]');
  await page.waitForSelector('.box.face .label', { timeout: WAIT });
});

test("the bridge's rotated and mirrored copies form one duplicates group", async ({ page, ctx }) => {
  await page.goto(`${ctx.url}/dupes`);
  await page.waitForSelector('.dupe-group', { timeout: WAIT });
  const groups = await page.$$eval('.dupe-group', (gs) => gs.map((g) => [...g.querySelectorAll('.card .name')].map((n) => n.textContent).sort()));
  const bridges = ctx.names.filter((n) => n.startsWith('bridge-'));
  const withBridge = groups.filter((g) => g.some((n) => n.startsWith('bridge-')));
  assert.equal(withBridge.length, 1, `groups: ${JSON.stringify(groups)}`);
  assert.deepEqual(withBridge[0], bridges);
  // Each member shows its resolution and its file's size.
  await page.waitForFunction(() => [...document.querySelectorAll('.dupe-group .bytes')].every((b) => b.textContent.trim()), null, { timeout: WAIT });
});

test('a person named on the people page is found by searching that name', async ({ page, ctx }) => {
  await page.goto(`${ctx.url}/people`);
  const cards = await peopleCards(page);
  assert.ok(cards.length >= 2, `people: ${JSON.stringify(cards)}`);
  // The astronaut, seen in astronaut.png and its mirror image.
  const list = await (await page.request.get(`${ctx.url}/api/people`)).json();
  const astronaut = list.people.find((p) => path.basename(p.photo).startsWith('astronaut'));
  assert.ok(astronaut, `no person in the astronaut's photos: ${JSON.stringify(list.people)}`);
  const person = cards.find((c) => c.id === astronaut.id);
  const card = page.locator(`.person[data-person="${person.id}"]`);
  await card.getByLabel(/^Name of /).fill('Eileen Collins');
  await card.getByRole('button', { name: 'Save' }).click();
  await page.waitForFunction((id) => document.querySelector(`.person[data-person="${id}"] .pname`).textContent === 'Eileen Collins', person.id, { timeout: WAIT });
  const faces = await (await page.request.get(`${ctx.url}/api/people/${person.id}`)).json();
  assert.equal(faces.name, 'Eileen Collins');
  const theirs = new Set(faces.faces.map((f) => path.basename(f.photo.path)));
  const results = await search(page, 'Eileen Collins');
  assert.ok(results.length > 0, 'no results');
  for (const name of theirs) assert.ok(results.some((r) => r.name === name), `${name} is not among ${results.map((r) => r.name)}`);
  for (const r of results.filter((r) => theirs.has(r.name))) assert.ok(r.matched.some((m) => m.includes('Eileen Collins')), `matched: ${r.matched}`);
});

test('merging two people leaves one', async ({ page, ctx }) => {
  await page.goto(`${ctx.url}/people`);
  const cards = await peopleCards(page);
  assert.ok(cards.length >= 2);
  const before = await (await page.request.get(`${ctx.url}/api/people`)).json();
  const [a, b] = cards;
  const facesOf = (id) => before.people.find((p) => p.id === id).faces;
  await page.locator(`.person[data-person="${a.id}"]`).getByLabel(/^Select/).check();
  await page.locator(`.person[data-person="${b.id}"]`).getByLabel(/^Select/).check();
  await page.getByRole('button', { name: 'Merge 2 into one' }).click();
  await page.waitForFunction((n) => document.querySelectorAll('.people-grid .person').length === n, cards.length - 1, { timeout: WAIT });
  const after = await (await page.request.get(`${ctx.url}/api/people`)).json();
  assert.equal(after.people.length, before.people.length - 1);
  const kept = after.people.filter((p) => p.id === a.id || p.id === b.id);
  assert.equal(kept.length, 1);
  assert.equal(kept[0].faces, facesOf(a.id) + facesOf(b.id));
  // A named one is kept, with its name.
  const named = before.people.filter((p) => (p.id === a.id || p.id === b.id) && p.name);
  if (named.length === 1) assert.equal(kept[0].name, named[0].name);
});

test('on a person\'s page, "not this person" takes a face away', async ({ page, ctx }) => {
  const list = await (await page.request.get(`${ctx.url}/api/people`)).json();
  const person = list.people.reduce((a, b) => (b.faces > a.faces ? b : a));
  assert.ok(person.faces >= 2, `the largest person has ${person.faces} faces`);
  await page.goto(`${ctx.url}/people/${person.id}`);
  await page.waitForSelector('.faces-grid li', { timeout: WAIT });
  assert.equal(await page.locator('.faces-grid li').count(), person.faces);
  const face = await page.getAttribute('.faces-grid li', 'data-face');
  await page.locator(`.faces-grid li[data-face="${face}"]`).getByRole('button', { name: /^Not / }).click();
  await page.waitForFunction((n) => document.querySelectorAll('.faces-grid li').length === n, person.faces - 1, { timeout: WAIT });
  const after = await (await page.request.get(`${ctx.url}/api/people/${person.id}`)).json();
  assert.equal(after.faces.length, person.faces - 1);
  assert.ok(!after.faces.some((f) => String(f.face) === face));
});

test('a duplicates group marked "not duplicates" is gone, and stays gone', async ({ page, ctx }) => {
  await page.goto(`${ctx.url}/dupes`);
  await page.waitForSelector('.dupe-group', { timeout: WAIT });
  const before = await page.$$eval('.dupe-group', (gs) => gs.map((g) => g.dataset.key));
  const key = before[0];
  await page.locator(`.dupe-group[data-key="${key}"]`).getByRole('button', { name: 'Not duplicates' }).click();
  await page.waitForSelector(`.dupe-group[data-key="${key}"]`, { state: 'detached', timeout: WAIT });
  await page.reload();
  await page.waitForSelector('.dupes .count:not(:empty)', { timeout: WAIT });
  await page.waitForFunction(() => !document.querySelector('.dupes .count').textContent.includes('Loading'), null, { timeout: WAIT });
  const after = await page.$$eval('.dupe-group', (gs) => gs.map((g) => g.dataset.key));
  assert.deepEqual(after, before.slice(1));
});

test('a folder is added from the jobs page, only under the roots', async ({ page, ctx }) => {
  await page.goto(`${ctx.url}/jobs`);
  await page.waitForSelector('#add-path', { timeout: WAIT });
  assert.ok((await page.textContent('.add label')).includes(ctx.photos), 'the page names the folder it may add from');
  await page.fill('#add-path', '/etc');
  await page.getByRole('button', { name: 'Add' }).click();
  await page.waitForSelector('.add .error', { timeout: WAIT });
  assert.match(await page.textContent('.add .error'), /only be added from the library's folders/);
  await page.fill('#add-path', ctx.photos);
  await page.getByRole('button', { name: 'Add' }).click();
  await page.waitForSelector('.add [role="status"]', { timeout: WAIT });
  assert.match(await page.textContent('.add [role="status"]'), new RegExp(`Found ${ctx.names.length} photos: 0 new`));
});

test('progress moves while work runs', async ({ page, ctx }) => {
  const dir = tempDir('darkroom-web-work-');
  try {
    const { dr } = await sampleLibrary({ ...ctx.opts, dir, work: false });
    const server = await dr.serve(['--no-work']);
    try {
      await page.goto(`${server.url}/jobs`);
      const bar = '.bar[data-task="all tasks"] progress';
      await page.waitForSelector(bar, { timeout: WAIT });
      // Every value the bar takes is recorded, from before the work starts to after it ends.
      await page.evaluate((sel) => {
        window.seen = [];
        const look = () => {
          const p = document.querySelector(sel);
          const v = [p.value, p.max];
          const last = window.seen[window.seen.length - 1];
          if (!last || last[0] !== v[0] || last[1] !== v[1]) window.seen.push(v);
        };
        look();
        new MutationObserver(look).observe(document.querySelector('.jobs'), { subtree: true, attributes: true, childList: true });
      }, bar);
      const [start] = await page.evaluate(() => window.seen);
      assert.equal(start[0], 0, 'nothing was analysed yet');
      await dr.work(1);
      await page.waitForFunction((sel) => {
        const p = document.querySelector(sel);
        return p.value === p.max;
      }, bar, { timeout: WAIT });
      const seen = await page.evaluate(() => window.seen);
      const max = seen[seen.length - 1][1];
      const between = seen.filter(([v]) => v > 0 && v < max);
      assert.ok(between.length >= 1, `the bar went ${JSON.stringify(seen)}`);
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i][0] >= seen[i - 1][0], `the bar went back: ${JSON.stringify(seen)}`);
      const status = await (await page.request.get(`${server.url}/api/status`)).json();
      assert.equal(max, Object.values(status.jobs).reduce((a, b) => a + b, 0));
      assert.match(await page.textContent('.jobs .count'), /all analysed/);
    } finally {
      await server.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('with auth on, the page asks for the token and refuses a wrong one', async ({ page, ctx }) => {
  const { token } = ctx.dr.json(['token', 'create', '--name', 'web-test']);
  const server = await ctx.dr.serve(['--no-work', '--auth']);
  try {
    await page.goto(server.url);
    await page.waitForSelector('#token', { timeout: WAIT });
    assert.equal(await page.$('.grid'), null, 'the timeline shows without a token');
    assert.equal((await page.request.get(`${server.url}/api/status`)).status(), 401);
    await page.fill('#token', 'drt_0123456789abcdef');
    await page.click('button[type="submit"]');
    await page.waitForSelector('#signin-error', { timeout: WAIT });
    assert.match(await page.textContent('#signin-error'), /Wrong token/);
    assert.equal(await page.$('.grid'), null);
    assert.equal((await page.request.get(`${server.url}/api/status`)).status(), 401);
    await page.fill('#token', token);
    await page.click('button[type="submit"]');
    await page.waitForSelector('.grid a.cell', { timeout: WAIT });
    assert.equal((await page.request.get(`${server.url}/api/status`)).status(), 200);
    // A reload keeps the session (the cookie).
    await page.reload();
    await page.waitForSelector('.grid a.cell', { timeout: WAIT });
  } finally {
    await server.stop();
  }
});

async function main() {
  const only = typeof args.only === 'string' ? args.only : null;
  const chosen = tests.filter((t) => !only || t.name.includes(only));
  const failures = path.join(args.out, 'failures');
  fs.mkdirSync(args.out, { recursive: true });
  const t0 = Date.now();
  const dir = tempDir('darkroom-web-');
  const opts = { bin: path.resolve(args.darkroom), models: path.resolve(args.models), shared: path.resolve(args.shared) };
  let browser;
  let server;
  let failed = 0;
  try {
    const lib = await sampleLibrary({ ...opts, dir });
    console.log(`library of ${lib.names.length} photos analysed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    server = await lib.dr.serve(['--no-work', '--root', lib.photos]);
    browser = await launchBrowser();
    const ctx = { url: server.url, names: lib.names, photos: fs.realpathSync(lib.photos), dr: lib.dr, opts };
    for (const t of chosen) {
      const started = Date.now();
      const contexts = [];
      const pages = [];
      const errors = [];
      const newPage = async (options = { viewport: { width: 1280, height: 800 } }) => {
        const context = await browser.newContext(options);
        contexts.push(context);
        const p = await context.newPage();
        p.on('pageerror', (e) => errors.push(e.message));
        pages.push(p);
        return p;
      };
      const page = await newPage();
      try {
        await t.fn({ page, newPage, ctx });
        assert.deepEqual(errors, [], 'the page threw');
        console.log(`ok    ${t.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      } catch (e) {
        failed++;
        fs.mkdirSync(failures, { recursive: true });
        const slug = t.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
        const shots = [];
        for (const [k, p] of pages.entries()) {
          if (p.isClosed()) continue;
          const file = path.join(failures, `${slug}${k ? `-${k}` : ''}.png`);
          await p.screenshot({ path: file, fullPage: false }).then(() => shots.push(file), () => {});
        }
        console.log(`FAIL  ${t.name}\n${e.stack || e}\n${errors.length ? `page errors: ${errors.join('; ')}\n` : ''}screenshots: ${shots.join(', ') || 'none'}`);
      } finally {
        for (const c of contexts) await c.close();
      }
    }
  } finally {
    if (browser) await browser.close();
    if (server) await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${chosen.length - failed} of ${chosen.length} browser tests passed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exitCode = 1;
});
