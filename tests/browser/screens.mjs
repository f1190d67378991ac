// Screenshots of the help page and the refusal pages at 1280 and 390 px, in
// English and Spanish, for a person to look at (not a test: nothing is
// asserted). Run against a fresh `casegate serve --demo` (it sends about 16
// access-code requests from this IP, under the 20-an-hour limit):
//   node screens.mjs http://127.0.0.1:8080 [out-dir]
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const BASE = process.argv[2];
const OUT = process.argv[3] || path.join(path.dirname(new URL(import.meta.url).pathname), 'out', 'screens');
if (!BASE) {
  console.error('usage: node screens.mjs BASE_URL [OUT_DIR]');
  process.exit(2);
}
mkdirSync(OUT, { recursive: true });

const maria = { a_number: 'A-012-345-678', given: 'Maria Jose', family: 'Nunez Garcia', dob: ['2', '14', '1985'], street: '123 Main Street', city: 'Springfield', state: 'IL', zip: '62701', delivery: 'email' };
const lan = { receipt: 'LIN9999106498', given: 'Nguyen', family: 'Thi Lan', dob: ['7', '30', '1979'], street: '45 N Elm Ave', city: 'Houston', state: 'TX', zip: '77002', delivery: 'post' };

async function requestCode(page, lang, p) {
  await page.goto(`${BASE}/access-code?lang=${lang}`);
  if (p.receipt) {
    await page.click('label[for=id_kind-receipt]');
    await page.fill('#receipt-input', p.receipt);
  } else {
    await page.fill('#a_number-input', p.a_number);
  }
  await page.fill('#given_name-input', p.given);
  await page.fill('#family_name-input', p.family);
  await page.selectOption('#dob-input', p.dob[0]);
  await page.fill('#dob_day-input', p.dob[1]);
  await page.fill('#dob_year-input', p.dob[2]);
  await page.fill('#street-input', p.street);
  await page.fill('#city-input', p.city);
  await page.selectOption('#state-input', p.state);
  await page.fill('#zip-input', p.zip);
  await page.click(`label[for=delivery-${p.delivery}]`);
  await Promise.all([page.waitForNavigation(), page.click('form.cg-access-form button[type=submit]')]);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
});

async function shoot(name, lang, go) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: lang === 'es' ? 'es-US' : 'en-US' });
  const page = await ctx.newPage();
  await go(page, lang);
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    const file = path.join(OUT, `${name}-${lang}-${width}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(file);
  }
  await ctx.close();
}

for (const lang of ['en', 'es']) {
  await shoot('help', lang, (page) => page.goto(`${BASE}/help?lang=${lang}`));
  await shoot('not-found', lang, (page) => page.goto(`${BASE}/no/such/page?lang=${lang}`));
  await shoot('access-mismatch', lang, (page) => requestCode(page, lang, { ...maria, street: '9 Other Road' }));
  await shoot('access-not-verified', lang, (page) => requestCode(page, lang, { ...maria, a_number: 'A-011-111-111' }));
}
// A letter, then "we mailed you a code recently" in both languages.
await shoot('access-letter-sent', 'en', (page) => requestCode(page, 'en', lan));
for (const lang of ['en', 'es']) {
  await shoot('access-letter-not-yet', lang, (page) => requestCode(page, lang, lan));
}
// Five requests for one identifier a day, then "too many requests".
const ctx = await browser.newContext();
const page = await ctx.newPage();
for (let i = 0; i < 5; i++) await requestCode(page, 'en', { ...maria, a_number: 'A-077-777-777' });
await ctx.close();
for (const lang of ['en', 'es']) {
  await shoot('access-limited', lang, (page) => requestCode(page, lang, { ...maria, a_number: 'A-077-777-777' }));
}
await browser.close();
