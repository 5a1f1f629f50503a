// The console's only script, loaded from the console itself so the Content-Security-Policy can forbid inline script.
// Forms with data-confirm ask before they submit; selects with data-autosubmit submit their form when changed.
"use strict";
document.addEventListener("submit", (event) => {
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) {
    event.target.form.submit();
  }
});
