// casegate's page script (the strict CSP allows no inline script). Pages work
// without it; it only improves them:
// - marks that JavaScript runs, so the USWDS menu button (uswds.min.js) takes
//   over the navigation below the desktop breakpoint (without JavaScript the
//   links are simply listed under the agency name);
// - after a failed submit, moves focus to the error summary, as the USWDS
//   validation pattern does, so a screen reader announces it first.
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
  document.addEventListener('DOMContentLoaded', function () {
    // A form page showing an error alert: the alert is the error summary.
    if (!document.querySelector('main form')) return;
    var summary = document.querySelector('main #error-summary, main .usa-alert--error');
    if (!summary) return;
    if (!summary.hasAttribute('tabindex')) summary.setAttribute('tabindex', '-1');
    summary.focus();
  });
})();
