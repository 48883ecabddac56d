// Drives the sae4j web UI in Debian's Chromium (headless) through playwright-core:
//   node ui.test.mjs BASE_URL OUT_DIR
// opens a feature, steers a chat and watches the streamed reply differ from the unsteered one, checks that text
// from the corpus and the user is shown as text, and saves screenshots in OUT_DIR. Prints one JSON line of
// findings; exits 1 with the reason on the first failed check. Run by ServeCommandTest.
import { chromium } from 'playwright-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [base, out] = process.argv.slice(2);
if (!base || !out) {
  console.error('usage: node ui.test.mjs BASE_URL OUT_DIR');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const findings = {};
const check = (ok, what) => { if (!ok) throw new Error('check failed: ' + what); };

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
let page;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', e => pageErrors.push(String(e)));
  const offsite = [];
  page.on('request', r => { if (!r.url().startsWith(base)) offsite.push(r.url()); });

  // 1. The feature list, and a search by a word of the best label.
  await page.goto(base + '/#/features');
  await page.waitForSelector('#feature-table tbody tr');
  const firstLabel = (await page.textContent('#feature-table tbody tr:first-child td:nth-child(2)')).trim();
  const word = firstLabel.split(/[^A-Za-z]+/).find(w => w.length >= 3) || firstLabel;
  await page.fill('#feature-search', word);
  await page.waitForFunction(w => location.hash.includes(encodeURIComponent(w)), word);
  await page.waitForSelector('#feature-table tbody tr');
  const matches = await page.$$eval('#feature-table tbody tr td:nth-child(2)', tds => tds.map(t => t.textContent));
  check(matches.length > 0 && matches.every(t => t.toLowerCase().includes(word.toLowerCase())),
    'every search result for "' + word + '" has it in its label: ' + matches.slice(0, 5));
  findings.search = { word, results: matches.length };
  await page.screenshot({ path: join(out, '1-features.png'), fullPage: false });

  // 2. Open a feature: label, histogram, highlighted sentences.
  await page.click('#feature-table tbody tr:first-child td:first-child a');
  await page.waitForSelector('#examples .example');
  const latent = Number((await page.textContent('h2')).replace(/\D+/g, ''));
  const label = (await page.textContent('#feature-label')).trim();
  check(label.length > 0, 'the feature page shows a label');
  check(await page.$('svg.hist rect') !== null, 'the feature page draws a histogram');
  const highlighted = await page.$$eval('#examples .tok.on', s => s.length);
  check(highlighted > 0, 'activating tokens are highlighted');
  findings.feature = { latent, label, highlighted };
  await page.screenshot({ path: join(out, '2-feature.png'), fullPage: true });

  // 3. Steer with it: the chat page opens with the feature in the controls; the reply streams and differs from
  //    the unsteered one beside it.
  await page.click('#steer-with-this');
  await page.waitForSelector('#steer-rows .steer-row input.latent');
  check(Number(await page.inputValue('#steer-rows .steer-row input.latent')) === latent,
    'the chat page has the feature in its steering controls');
  await page.fill('#steer-rows .steer-row input.strength', process.env.STEER_STRENGTH || '12');
  await page.dispatchEvent('#steer-rows .steer-row input.strength', 'change');
  await page.evaluate(() => {
    window.__chunks = 0;
    new MutationObserver(m => { window.__chunks += m.length; })
      .observe(document.getElementById('steered'), { childList: true, subtree: true, characterData: true });
  });
  const prompt = 'The President said that <img src=x onerror="window.__pwned=1"> & "the Congress"';
  await page.fill('#chat-input', prompt);
  await page.click('#send');
  await page.waitForFunction(() => document.getElementById('chat-stats').dataset.firstTokenMs !== undefined,
    null, { timeout: 60000 });
  const steered = (await page.textContent('#steered .turn.assistant')).replace(/^model, steered/, '');
  const plain = (await page.textContent('#plain .turn.assistant')).replace(/^model/, '');
  const firstTokenMs = Number(await page.getAttribute('#chat-stats', 'data-first-token-ms'));
  const chunks = await page.evaluate(() => window.__chunks);
  check(steered.trim().length > 0 && plain.trim().length > 0, 'both replies have text');
  check(steered !== plain, 'the steered reply differs from the unsteered one');
  check(chunks > 3, 'the reply arrived in pieces (streamed), got ' + chunks + ' DOM updates');
  const userTurn = await page.textContent('#steered .turn.user');
  check(userTurn.includes('<img src=x'), 'the user text is shown as text');
  check(await page.$('#steered img, #plain img') === null, 'no element was made from the user text');
  check(await page.evaluate(() => window.__pwned === undefined), 'no script ran from the user text');
  findings.chat = { steered: steered.trim(), plain: plain.trim(), firstTokenMs, chunks };
  await page.screenshot({ path: join(out, '3-chat.png'), fullPage: true });

  // 4. Which latents fire on each token, with markup in the text.
  await page.goto(base + '/#/inspect');
  await page.fill('#inspect-text', 'A <b>bold</b> claim & "quotes" from the President');
  await page.click('#inspect-run');
  await page.waitForSelector('#inspect-rows tr');
  const tokens = await page.$$eval('#inspect-tokens .tok', s => s.map(t => t.textContent));
  check(tokens.join('').includes('<b>'), 'markup in the text is shown as text: ' + tokens.join('|'));
  check(await page.$('#inspect-tokens b') === null, 'no element was made from the text');
  const chips = await page.$$eval('#inspect-rows .chip', c => c.length);
  check(chips > 0, 'tokens list the latents that fire on them');
  findings.inspect = { tokens: tokens.length, chips };
  await page.screenshot({ path: join(out, '4-inspect.png'), fullPage: true });

  // 5. An unknown feature: a clear message, and the page still works.
  await page.goto(base + '/#/feature/999999');
  await page.waitForSelector('#notice:not([hidden])');
  const message = await page.textContent('#notice');
  check(message.includes('does not exist'), 'an unknown feature says so: ' + message);
  await page.click('nav a[data-nav=features]');
  await page.waitForSelector('#feature-table tbody tr');
  findings.unknownFeature = message;
  await page.screenshot({ path: join(out, '5-unknown-feature.png') });

  check(pageErrors.length === 0, 'no script errors: ' + pageErrors.join('; '));
  check(offsite.length === 0, 'nothing is fetched from outside the server: ' + offsite.join(', '));
  console.log(JSON.stringify(findings));
} catch (e) {
  if (page) {
    await page.screenshot({ path: join(out, 'failure.png'), fullPage: true }).catch(() => {});
  }
  writeFileSync(join(out, 'failure.txt'), String(e.stack || e));
  console.error(String(e.message || e));
  console.log(JSON.stringify(findings));
  process.exitCode = 1;
} finally {
  await browser.close();
}
