#!/usr/bin/env node
// Browser accessibility harness for casegate.
//
//   node a11y.mjs BASE_URL PAGES_JSON
//
// PAGES_JSON is a JSON array of checks:
//   {"name": "status form", "path": "/status", "expect": ["Case Status"], "lang": "en"}
// Optional fields per check:
//   lang    "en" | "es": browser locale + Accept-Language; <html lang> must start with it.
//           (No query is appended: put ?lang=... in the path if wanted.)
//   expect  strings that must appear in the page's visible text (body.innerText).
//   js      false: load with JavaScript disabled; text/lang are checked on that
//           load and axe runs on a second, JS-enabled load (same path + steps).
//   steps   actions run after the first navigation, in order:
//             {"fill": SEL, "value": "..."}  {"click": SEL}  {"select": SEL, "value": "..."}
//             {"goto": "/path"}  {"waitFor": SEL}  {"clock": SECONDS} (server time ahead;
//             needs A11Y_CLOCK_FILE = the debug server's CASEGATE_TEST_CLOCK_FILE)
//             {"upload": SEL, "name", "mime", "content"} or, several files at once,
//             {"upload": SEL, "files": [{"name", "mime", "content"}, ...]}
//   status  expected HTTP status of the last main-document response (default: any < 400).
//   widths  viewport widths in CSS px to run the whole check at (default [1280]);
//           each width is its own check, named "<name>@<width>".
//   assert  DOM assertions on the final page, in order (each fails the check if false):
//             {"visible": SEL}  {"hidden": SEL}  {"focused": SEL}  {"count": SEL, "n": N}
//             {"attr": SEL, "name": ATTR, "value": "..."}   (value null: attribute absent)
//             {"text": SEL, "has": "..."}   (SEL's visible text contains it)
//             {"href": SEL, "has": "..."}   (SEL's href contains it)
//             {"dialog": "..."}   (a confirmation dialog with this text was shown;
//                                  every dialog is accepted, as a person who means it would)
//           Steps run before them; an assertion may also be {"click": SEL} or
//           {"goto": PATH} to go on (e.g. open the menu, then assert the links).
//           Assertions without click/goto are checked again at 390 px unless
//           "at390": false (e.g. desktop-only layout).
//
// Every check also asserts, at its width and again at 390 px: no horizontal
// scrolling (nothing wider than the viewport) and that no heading or legend in
// <main> is set larger than the page's <h1> (the USWDS type scale).

// A check fails on: a WCAG 2.0/2.1 A/AA axe violation, a missing expected string,
// a wrong <html lang>, a console error or uncaught page error, a failed request,
// a sub-resource answered with HTTP >= 400, or an unexpected document status.
// A full-page screenshot is written to out/<name>.png, and one at 390 px (a
// phone) to out/390/<name>.png, for every check.
// Env: A11Y_CHROMIUM overrides the browser path (default /usr/bin/chromium).
import { createHmac } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(HERE, 'out');
const TIMEOUT = 15000;
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

function usage(msg) {
  if (msg) console.error(`a11y: ${msg}`);
  console.error('usage: node a11y.mjs BASE_URL PAGES_JSON');
  process.exit(2);
}

const [baseArg, pagesArg] = process.argv.slice(2);
if (!baseArg || !pagesArg) usage();
const BASE = baseArg.replace(/\/+$/, '');
let checks;
try {
  checks = JSON.parse(readFileSync(pagesArg, 'utf8'));
} catch (e) {
  usage(`cannot read ${pagesArg}: ${e.message}`);
}
if (!Array.isArray(checks) || checks.length === 0) usage('PAGES_JSON must be a non-empty array');
for (const [i, c] of checks.entries()) {
  if (!c || typeof c.name !== 'string' || typeof c.path !== 'string') usage(`check #${i}: "name" and "path" are required`);
  if (c.lang !== undefined && !['en', 'es'].includes(c.lang)) usage(`check "${c.name}": lang must be "en" or "es"`);
  for (const s of c.steps ?? []) {
    if (!['fill', 'click', 'select', 'goto', 'waitFor', 'totp', 'totpFromPage', 'mailCode', 'upload', 'saveText', 'fillVar', 'downloadCode', 'clock'].some((k) => k in s)) usage(`check "${c.name}": unknown step ${JSON.stringify(s)}`);
  }
}

// A check with "widths" runs once per width.
checks = checks.flatMap((c) => (Array.isArray(c.widths)
  ? c.widths.map((w) => ({ ...c, name: `${c.name}@${w}`, width: w }))
  : [c]));

const AXE_SOURCE = readFileSync(path.join(HERE, 'node_modules/axe-core/axe.min.js'), 'utf8');
const url = (p) => (/^https?:\/\//.test(p) ? p : BASE + (p.startsWith('/') ? p : '/' + p));
const slug = (s) => s.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'check';

// One browser for all checks; a fresh context per check.
const browser = await chromium.launch({
  executablePath: process.env.A11Y_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
});

// NOTE on CSP: the server sends a strict Content-Security-Policy (no inline
// scripts), so page.addScriptTag({content}) would be blocked. Instead of
// bypassCSP:true (which would switch the page's CSP off and hide real CSP
// breakage, e.g. a blocked font or stylesheet), axe is injected with
// page.evaluate(source): that goes through the DevTools protocol
// (Runtime.evaluate), which CSP does not apply to. So checks run under the
// server's real CSP, and CSP violations surface as console errors/failures.
async function newContext(check, javaScriptEnabled) {
  const opts = { javaScriptEnabled, bypassCSP: false, viewport: { width: check.width ?? 1280, height: 900 } };
  if (check.lang) {
    opts.locale = check.lang === 'es' ? 'es-US' : 'en-US';
    opts.extraHTTPHeaders = { 'Accept-Language': check.lang === 'es' ? 'es-US,es;q=0.9' : 'en-US,en;q=0.9' };
  }
  const ctx = await browser.newContext(opts);
  ctx.setDefaultTimeout(TIMEOUT);
  ctx.setDefaultNavigationTimeout(TIMEOUT);
  return ctx;
}

// Watches a page for console errors, page errors and failed requests.
function watch(page, problems) {
  const docResponses = new Map(); // url -> status of main-frame documents
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const loc = msg.location()?.url;
    // Chromium logs "Failed to load resource" for every failed or >=400 request;
    // those are reported (once) by the requestfailed/response handlers below.
    if (/^Failed to load resource:/.test(msg.text())) return;
    problems.push(`console error: ${msg.text()}${loc ? ` (${loc})` : ''}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => {
    const err = req.failure()?.errorText ?? 'failed';
    // A navigation replaced by the next one is not a resource failure.
    // ERR_ABORTED is the browser cancelling a request (a step navigated on
    // while fonts or the favicon were loading), not the server refusing it;
    // server errors arrive as HTTP >= 400 responses and are reported below.
    if (err === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${req.method()} ${req.url()} ${err}`);
  });
  page.on('response', (res) => {
    const req = res.request();
    if (req.isNavigationRequest() && req.frame() === page.mainFrame()) {
      docResponses.set(res.url(), res.status());
    } else if (res.status() >= 400) {
      problems.push(`HTTP ${res.status()}: ${req.method()} ${res.url()}`);
    }
  });
  return docResponses;
}

// RFC 6238 code (SHA-1, 6 digits, 30 s) for a base32 secret, so checks can
// sign in to demo accounts with two-step verification. `offset` shifts the
// step (a code may be used only once, so later checks use later steps).
function totpNow(base32, offset) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of base32.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const step = Math.floor(Date.now() / 1000 / 30) + offset;
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', key).update(msg).digest();
  const o = mac[mac.length - 1] & 0x0f;
  const n = ((mac[o] & 0x7f) << 24) | (mac[o + 1] << 16) | (mac[o + 2] << 8) | mac[o + 3];
  return String(n % 1000000).padStart(6, '0');
}

async function mailCode(to, after) {
  const dir = process.env.A11Y_OUTBOX;
  if (!dir) throw new Error('mailCode needs A11Y_OUTBOX (the server outbox folder)');
  for (let i = 0; i < 100; i++) {
    const files = readdirSync(dir).filter((f) => f.endsWith('.eml')).sort().reverse();
    for (const f of files) {
      const raw = readFileSync(path.join(dir, f), 'utf8').replace(/=\r?\n/g, '');
      if (!raw.includes(`To: ${to}`)) continue;
      const at = raw.indexOf(after);
      if (at < 0) continue;
      const m = raw.slice(at + after.length).match(/[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}|\d{8}/);
      if (m) return m[0];
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no email to ${to} containing ${after}`);
}

const vars = {};
const lastTotpStep = {};

function setClock(secs) {
  const file = process.env.A11Y_CLOCK_FILE;
  if (!file) {
    if (secs !== 0) throw new Error('clock needs A11Y_CLOCK_FILE (the server\'s CASEGATE_TEST_CLOCK_FILE)');
    return;
  }
  writeFileSync(file, String(secs));
}

async function runSteps(page, steps) {
  for (const s of steps ?? []) {
    if ('goto' in s) await page.goto(url(s.goto));
    else if ('fill' in s) await page.fill(s.fill, String(s.value ?? ''));
    else if ('select' in s) await page.selectOption(s.select, String(s.value ?? ''));
    else if ('click' in s) await page.click(s.click);
    else if ('waitFor' in s) await page.waitForSelector(s.waitFor);
    else if ('totp' in s) {
      // A step is accepted once per account: with `account` set, wait for a
      // fresh step if that account's last code used this one already
      // (several checks sign in the same officer).
      const offset = s.offset ?? 0;
      if (s.account) {
        while (Math.floor(Date.now() / 30000) + offset <= (lastTotpStep[s.account] ?? -Infinity)) {
          await new Promise((r) => setTimeout(r, 500));
        }
        lastTotpStep[s.account] = Math.floor(Date.now() / 30000) + offset;
      }
      await page.fill(s.totp, totpNow(s.secret, offset));
    }
    // The key shown on the enrolment page, as an authenticator app would read it.
    else if ('totpFromPage' in s) {
      const key = (await page.textContent(s.key)) ?? '';
      await page.fill(s.totpFromPage, totpNow(key, s.offset ?? 0));
    }
    // A code from the newest email to `to` in the server's outbox folder
    // ($A11Y_OUTBOX), as the person would read it from their mailbox.
    else if ('mailCode' in s) await page.fill(s.mailCode, await mailCode(s.to, s.after));
    // One file ({name, mime, content}) or several at once ({files: [...]},
    // as a person choosing several in an <input type=file multiple>).
    else if ('upload' in s) {
      const one = (f) => ({ name: f.name, mimeType: f.mime, buffer: Buffer.from(f.content) });
      await page.setInputFiles(s.upload, s.files ? s.files.map(one) : one(s));
    }
    // Remember some text of the page for a later step of the same check.
    else if ('saveText' in s) vars[s.as] = ((await page.textContent(s.saveText)) ?? '').trim();
    else if ('fillVar' in s) await page.fill(s.fillVar, vars[s.var] ?? '');
    // Click something that downloads a PDF (the mail room's print batch), read
    // it with pdftotext and keep the access code printed after the receipt
    // number saved in `receiptVar` — as a person reading the letter would.
    // `after` (literal text, e.g. an address line) instead of `receiptVar`.
    else if ('downloadCode' in s) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(s.downloadCode)]);
      const file = path.join(OUT, `download-${Date.now()}.pdf`);
      await download.saveAs(file);
      const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
      const marker = s.after ?? vars[s.receiptVar] ?? '\u0000';
      const at = text.indexOf(marker);
      const m = at < 0 ? null : text.slice(at).match(/[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/);
      if (!m) throw new Error(`no code after ${marker} in the printed letters`);
      vars[s.as] = m[0];
    }
    // Let time pass on the server: {"clock": SECONDS} ahead of the real clock
    // (debug server started with CASEGATE_TEST_CLOCK_FILE = $A11Y_CLOCK_FILE).
    else if ('clock' in s) setClock(s.clock);
    await page.waitForLoadState('load');
  }
}

async function load(page, check) {
  await page.goto(url(check.path));
  await runSteps(page, check.steps);
}

// The layout rules every page keeps at the current viewport width.
async function layoutProblems(page) {
  return page.evaluate(() => {
    const out = [];
    const vw = document.documentElement.clientWidth;
    const sw = document.documentElement.scrollWidth;
    if (sw > vw + 1) {
      const wide = [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > vw + 1 && getComputedStyle(e).position !== 'fixed')
        .slice(-1)
        .map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : ''));
      out.push(`page scrolls sideways at ${vw}px (content ${sw}px wide${wide.length ? `, e.g. ${wide[0]}` : ''})`);
    }
    const h1 = document.querySelector('main h1');
    if (h1) {
      const top = parseFloat(getComputedStyle(h1).fontSize);
      for (const h of document.querySelectorAll('main h2, main h3, main h4, main legend')) {
        if (h.offsetParent === null) continue;
        const size = parseFloat(getComputedStyle(h).fontSize);
        if (size > top + 0.5) out.push(`at ${vw}px a <${h.tagName.toLowerCase()}> (${size}px) is larger than the page title (${top}px): ${JSON.stringify(h.textContent.trim().slice(0, 60))}`);
      }
    }
    return out;
  });
}

async function runAsserts(page, asserts, problems) {
  for (const a of asserts ?? []) {
    const where = JSON.stringify(a);
    try {
      if ('click' in a) { await page.click(a.click); await page.waitForLoadState('load'); }
      else if ('goto' in a) await page.goto(url(a.goto));
      else if ('dialog' in a) { if (!(page.cgDialogs ?? []).some((m) => m.includes(a.dialog))) problems.push(`assert failed, no dialog: ${where} (saw ${JSON.stringify(page.cgDialogs ?? [])})`); }
      else if ('visible' in a) { if (!(await page.locator(a.visible).first().isVisible())) problems.push(`assert failed, not visible: ${where}`); }
      else if ('hidden' in a) { if (await page.locator(a.hidden).first().isVisible()) problems.push(`assert failed, visible: ${where}`); }
      else if ('focused' in a) {
        const ok = await page.evaluate((sel) => { const el = document.querySelector(sel); return !!el && document.activeElement === el; }, a.focused);
        if (!ok) problems.push(`assert failed, not focused: ${where} (focus on ${await page.evaluate(() => document.activeElement?.outerHTML?.slice(0, 80))})`);
      } else if ('count' in a) {
        const n = await page.locator(a.count).count();
        if (n !== a.n) problems.push(`assert failed: ${where} counted ${n}`);
      } else if ('attr' in a) {
        const els = await page.locator(a.attr).all();
        if (els.length === 0) problems.push(`assert failed, no element: ${where}`);
        for (const el of els) {
          const v = await el.getAttribute(a.name);
          if (v !== a.value) problems.push(`assert failed: ${where} got ${JSON.stringify(v)}`);
        }
      } else if ('text' in a) {
        const t = await page.locator(a.text).first().innerText();
        if (!t.includes(a.has)) problems.push(`assert failed: ${where} text was ${JSON.stringify(t.slice(0, 200))}`);
      } else if ('href' in a) {
        const h = (await page.locator(a.href).first().getAttribute('href')) ?? '';
        if (!h.includes(a.has)) problems.push(`assert failed: ${where} href was ${JSON.stringify(h)}`);
      } else problems.push(`unknown assertion ${where}`);
    } catch (e) {
      problems.push(`assert error: ${where}: ${e.message.split('\n')[0]}`);
    }
  }
}

async function runAxe(page) {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), AXE_TAGS);
}

async function runCheck(check) {
  // Every check starts at the real time.
  setClock(0);
  const problems = [];
  const result = { name: check.name, url: url(check.path), problems, violations: [] };
  const jsOn = check.js !== false;
  const ctx = await newContext(check, jsOn);
  try {
    const page = await ctx.newPage();
    page.cgDialogs = [];
    page.on('dialog', (d) => { page.cgDialogs.push(d.message()); d.accept(); });
    const docs = watch(page, problems);
    await load(page, check);
    result.url = page.url();

    const last = docs.get(page.url()) ?? [...docs.values()].pop();
    if (check.status !== undefined ? last !== check.status : !(last < 400)) {
      problems.push(`document status ${last ?? 'none'} for ${page.url()} (expected ${check.status ?? '< 400'})`);
    }

    const text = await page.locator('body').innerText();
    for (const want of check.expect ?? []) {
      if (!text.includes(want)) problems.push(`expected text not found: ${JSON.stringify(want)}`);
    }
    if (check.lang) {
      const lang = (await page.locator('html').getAttribute('lang')) ?? '';
      if (!lang.toLowerCase().startsWith(check.lang)) problems.push(`<html lang="${lang}"> does not start with "${check.lang}"`);
    }

    problems.push(...(await layoutProblems(page)));
    mkdirSync(path.join(OUT, '390'), { recursive: true });
    result.screenshot = path.join('out', `${slug(check.name)}.png`);
    await page.screenshot({ path: path.join(HERE, result.screenshot), fullPage: true });
    // The same page on a phone: its layout rules, a screenshot, axe.
    const width = check.width ?? 1280;
    if (width !== 390) {
      await page.setViewportSize({ width: 390, height: 844 });
      problems.push(...(await layoutProblems(page)));
      // Assertions that only look (no click or goto) hold on a phone too.
      const looks = (check.assert ?? []).every((a) => !('click' in a) && !('goto' in a));
      if (looks && check.assert && check.at390 !== false) {
        const p390 = [];
        await runAsserts(page, check.assert, p390);
        problems.push(...p390.map((p) => `[390px] ${p}`));
      }
    }
    result.phone = path.join('out', '390', `${slug(check.name)}.png`);
    await page.screenshot({ path: path.join(HERE, result.phone), fullPage: true });
    if (jsOn && width !== 390) result.violations.push(...(await runAxe(page)).violations.map((v) => ({ ...v, help: `${v.help} (at 390px)` })));
    if (width !== 390) await page.setViewportSize({ width, height: 900 });
    await runAsserts(page, check.assert, problems);

    if (jsOn) {
      result.violations.push(...(await runAxe(page)).violations);
    } else {
      // Page scripts (and axe) cannot run with JavaScript disabled: run axe on a
      // second, JS-enabled load of the same path + steps.
      const ctx2 = await newContext(check, true);
      try {
        const page2 = await ctx2.newPage();
        page2.on('dialog', (d) => d.accept());
        const p2 = [];
        watch(page2, p2);
        await load(page2, check);
        problems.push(...p2.map((p) => `[js-enabled load] ${p}`));
        result.violations.push(...(await runAxe(page2)).violations);
      } finally {
        await ctx2.close();
      }
    }
  } catch (e) {
    problems.push(`error: ${e.message.split('\n')[0]}`);
  } finally {
    await ctx.close();
  }
  result.ok = problems.length === 0 && result.violations.length === 0;
  return result;
}

let totalViolations = 0;
let failures = 0;
try {
  for (const check of checks) {
    const r = await runCheck(check);
    totalViolations += r.violations.length;
    if (!r.ok) failures++;
    console.log(`${r.ok ? 'PASS' : 'FAIL'} ${r.name} — ${r.url}${check.js === false ? ' (no JS)' : ''}`);
    for (const v of r.violations) {
      const targets = v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ');
      const more = v.nodes.length > 3 ? ` (+${v.nodes.length - 3} more)` : '';
      console.log(`  violation ${v.id} [${v.impact}] ${v.help}\n    at: ${targets}${more}`);
    }
    for (const p of r.problems) console.log(`  ${p}`);
    if (r.screenshot) console.log(`  screenshot: tests/browser/${r.screenshot}  (390px: tests/browser/${r.phone})`);
  }
} finally {
  await browser.close();
}
console.log(`a11y: ${checks.length} checks, ${totalViolations} violations, ${failures} failures`);
process.exit(failures > 0 ? 1 : 0);
