// Runs in the page before the client (playwright's addInitScript): records every value each
// progress bar and each sample's preview takes, however briefly, in window.seen, keyed by the
// bar's label ("Sample 1 progress") or "preview sample 1". The test reads it when the job is done.
window.seen = {};
const record = (key, value) => (window.seen[key] ??= []).push(value);
new MutationObserver(() => {
  for (const bar of document.querySelectorAll('[role="progressbar"]')) record(bar.getAttribute("aria-label"), bar.getAttribute("aria-valuenow"));
  for (const image of document.querySelectorAll('img[alt^="Preview of sample"]')) record(`preview ${/sample \d+/.exec(image.alt)[0]}`, image.src);
}).observe(document, { subtree: true, childList: true, attributes: true });
