// casegate's page script (the strict CSP allows no inline script). Pages work
// without it; it only improves them:
// - marks that JavaScript runs, so the USWDS menu button (uswds.min.js) takes
//   over the navigation below the desktop breakpoint (without JavaScript the
//   links are simply listed under the agency name);
// - after a failed submit, moves focus to the error summary, as the USWDS
//   validation pattern does, so a screen reader announces it first;
// - puts the page's words (data-cg-* on the input) in place of the English
//   ones USWDS's file-input script writes ("Drag files here or …").
(function () {
  'use strict';
  document.documentElement.classList.remove('cg-no-js');
  // Actions that cannot be undone (a decision, disabling, revoking, a letter
  // marked returned) ask first: data-cg-confirm on the button or its form.
  document.addEventListener('submit', function (e) {
    var b = e.submitter;
    var msg = (b && b.getAttribute('data-cg-confirm')) || e.target.getAttribute('data-cg-confirm');
    if (msg && !window.confirm(msg)) e.preventDefault();
  });
  // USWDS 3 writes fixed English into its file input (and rewrites it when
  // files are chosen): replace each of its phrases with the page's own.
  function translateFileInput(input) {
    var d = input.dataset;
    var wrap = input.closest('.usa-file-input') || input.parentNode;
    var many = function (tpl, n) { return tpl.replace('{n}', n); };
    var fix = function (text) {
      var t = text.trim(), m;
      if (t === 'Drag files here or' || t === 'Drag file here or') return d.cgDrag;
      if (t === 'choose from folder') return d.cgChoose;
      if (t === 'Choose from folder') return d.cgChooseCap;
      if (t === 'Drag files here or choose from folder' || t === 'Drag file here or choose from folder') return d.cgDrag + ' ' + d.cgChoose;
      if (t === 'Change file') return d.cgChangeOne;
      if (t === 'Change files') return d.cgChangeMany;
      if (t === 'Selected file') return d.cgSelectedOne + ' ';
      if ((m = /^(\d+) files selected$/.exec(t))) return many(d.cgSelectedMany, m[1]) + ' ';
      if ((m = /^You have selected the file: (.*)$/.exec(t))) return d.cgYouOne + m[1];
      if ((m = /^You have selected (\d+) files: (.*)$/.exec(t))) return many(d.cgYouMany, m[1]) + m[2];
      return null;
    };
    var apply = function () {
      var walker = document.createTreeWalker(wrap.parentNode, NodeFilter.SHOW_TEXT);
      var node;
      while ((node = walker.nextNode())) {
        var to = fix(node.nodeValue);
        if (to !== null && to !== node.nodeValue) node.nodeValue = to;
      }
      // Only a real change: setting an attribute to its own value is still
      // a mutation, and would wake this observer for ever.
      var label = input.getAttribute('aria-label');
      var toLabel = label && fix(label);
      if (toLabel && toLabel.trim() !== label) input.setAttribute('aria-label', toLabel.trim());
    };
    apply();
    new MutationObserver(apply).observe(wrap.parentNode, {
      subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['aria-label'],
    });
  }
  document.addEventListener('DOMContentLoaded', function () {
    var inputs = document.querySelectorAll('input[type=file][data-cg-drag]');
    for (var i = 0; i < inputs.length; i++) translateFileInput(inputs[i]);
  });
  document.addEventListener('DOMContentLoaded', function () {
    // A form page showing an error alert: the alert is the error summary.
    if (!document.querySelector('main form')) return;
    var summary = document.querySelector('main #error-summary, main .usa-alert--error');
    if (!summary) return;
    if (!summary.hasAttribute('tabindex')) summary.setAttribute('tabindex', '-1');
    summary.focus();
  });
})();
