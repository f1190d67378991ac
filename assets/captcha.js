/*
 * casegate CAPTCHA solver (proof of work). Plain ES2017, no dependencies.
 * Served as /assets/captcha.js and loaded with
 *   <script src="/assets/captcha.js" defer></script>
 * It works under `script-src 'self'`: no inline code, no eval, no styles.
 *
 * For every form[data-captcha] it finds a nonce n such that
 * SHA-256(salt + ":" + n) has at least data-captcha-difficulty leading zero
 * bits, writes it into input[name=captcha_solution] and announces progress in
 * the form's [data-captcha-status] element, using only the texts the server
 * put in its data-captcha-working / data-captcha-done attributes.
 *
 * If the user submits before the puzzle is solved, the submission is held
 * and sent automatically once it is. Nothing ever blocks submission for good:
 * if Web Crypto is unavailable, anything fails, or solving takes longer than
 * data-captcha-max-wait seconds (default 15) after a held submission, the
 * solution stays empty and the server's time-lock path applies.
 *
 * On success the form also receives a bubbling `captcha:solved` CustomEvent
 * with detail { nonce, ms } (for instrumentation; optional).
 */
(() => {
  'use strict';

  // Difficulties above this would take far too long: leave the time lock.
  const MAX_DIFFICULTY = 32;
  const DEFAULT_MAX_WAIT_SECS = 15;
  const MIN_BATCH = 16;
  const MAX_BATCH = 512;
  const TARGET_BATCH_MS = 25;

  const clock = () =>
    typeof performance !== 'undefined' && performance.now ? performance.now() : Date.now();

  // Yield to the event loop without the 4 ms clamp of nested setTimeout.
  const yieldToEventLoop = (() => {
    if (typeof MessageChannel === 'function') {
      const channel = new MessageChannel();
      const waiting = [];
      channel.port1.onmessage = () => {
        const resume = waiting.shift();
        if (resume) resume();
      };
      return () =>
        new Promise((resolve) => {
          waiting.push(resolve);
          channel.port2.postMessage(null);
        });
    }
    return () => new Promise((resolve) => setTimeout(resolve, 0));
  })();

  function leadingZeroBits(bytes) {
    let bits = 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === 0) {
        bits += 8;
        continue;
      }
      let mask = 0x80;
      while ((b & mask) === 0) {
        bits++;
        mask >>= 1;
      }
      break;
    }
    return bits;
  }

  // Resolves with the smallest solving nonce, or null if stopped.
  async function solve(salt, difficulty, stopped) {
    const encoder = new TextEncoder();
    const prefix = salt + ':';
    let n = 0;
    let batch = MIN_BATCH;
    for (;;) {
      const started = clock();
      const jobs = new Array(batch);
      for (let i = 0; i < batch; i++) {
        jobs[i] = crypto.subtle.digest('SHA-256', encoder.encode(prefix + (n + i)));
      }
      const hashes = await Promise.all(jobs);
      for (let i = 0; i < batch; i++) {
        if (leadingZeroBits(new Uint8Array(hashes[i])) >= difficulty) return n + i;
      }
      n += batch;
      if (stopped()) return null;
      if (n > Number.MAX_SAFE_INTEGER - MAX_BATCH) throw new Error('nonce space exhausted');
      const took = clock() - started;
      if (took < TARGET_BATCH_MS / 2 && batch < MAX_BATCH) batch *= 2;
      else if (took > TARGET_BATCH_MS * 2 && batch > MIN_BATCH) batch /= 2;
      await yieldToEventLoop();
    }
  }

  function submitForm(form, submitter) {
    if (typeof form.requestSubmit === 'function') {
      if (submitter && submitter.form === form) {
        try {
          form.requestSubmit(submitter);
          return;
        } catch (e) {
          // fall through to a plain requestSubmit()
        }
      }
      try {
        form.requestSubmit();
        return;
      } catch (e) {
        // fall through to submit()
      }
    }
    // submit() skips the submit event and drops the submitter: keep its value.
    if (submitter && submitter.name) {
      const extra = document.createElement('input');
      extra.type = 'hidden';
      extra.name = submitter.name;
      extra.value = submitter.value;
      form.appendChild(extra);
    }
    HTMLFormElement.prototype.submit.call(form);
  }

  function setup(form) {
    if (form.hasAttribute('data-captcha-bound')) return;
    form.setAttribute('data-captcha-bound', '');

    const solution = form.querySelector('input[name="captcha_solution"]');
    const token = form.querySelector('input[name="captcha_token"]');
    const status = form.querySelector('[data-captcha-status]');
    const salt = form.getAttribute('data-captcha-salt') || '';
    const difficulty = Number(form.getAttribute('data-captcha-difficulty'));
    const maxWaitAttr = Number(form.getAttribute('data-captcha-max-wait'));
    const maxWaitMs =
      (Number.isFinite(maxWaitAttr) && maxWaitAttr > 0 ? maxWaitAttr : DEFAULT_MAX_WAIT_SECS) *
      1000;

    if (!solution || !token || !token.value || !salt) return;
    solution.value = '';
    if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > MAX_DIFFICULTY) return;
    if (
      typeof crypto === 'undefined' ||
      !crypto.subtle ||
      typeof crypto.subtle.digest !== 'function' ||
      typeof TextEncoder !== 'function' ||
      typeof Promise !== 'function'
    ) {
      return; // e.g. not a secure context: the time lock applies
    }

    const fallbackText = status ? status.textContent : '';
    let state = 'solving'; // 'solving' | 'done' | 'failed'
    let held = false;
    let heldSubmitter = null;
    let waitTimer = 0;

    const announce = (attribute) => {
      if (!status) return;
      const text = status.getAttribute(attribute);
      if (text && status.textContent !== text) status.textContent = text;
    };

    const release = () => {
      if (!held) return;
      held = false;
      clearTimeout(waitTimer);
      submitForm(form, heldSubmitter);
    };

    const giveUp = () => {
      if (state !== 'solving') return;
      state = 'failed';
      solution.value = '';
      if (status) status.textContent = fallbackText; // the no-JS explanation
      release();
    };

    form.addEventListener('submit', (event) => {
      if (state !== 'solving' || event.defaultPrevented) return;
      event.preventDefault();
      heldSubmitter = event.submitter || null;
      if (!held) {
        held = true;
        waitTimer = setTimeout(giveUp, maxWaitMs);
      }
      announce('data-captcha-working');
    });

    announce('data-captcha-working');
    const started = clock();
    solve(salt, difficulty, () => state !== 'solving').then(
      (nonce) => {
        if (state !== 'solving' || nonce === null) return;
        solution.value = String(nonce);
        state = 'done';
        announce('data-captcha-done');
        try {
          form.dispatchEvent(
            new CustomEvent('captcha:solved', {
              bubbles: true,
              detail: { nonce: nonce, ms: clock() - started },
            }),
          );
        } catch (e) {
          // instrumentation only
        }
        release();
      },
      giveUp,
    );
  }

  function init() {
    const forms = document.querySelectorAll('form[data-captcha]');
    for (let i = 0; i < forms.length; i++) {
      try {
        setup(forms[i]);
      } catch (e) {
        // Leave captcha_solution empty: the server's time lock applies.
        const solution = forms[i].querySelector('input[name="captcha_solution"]');
        if (solution) solution.value = '';
      }
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
