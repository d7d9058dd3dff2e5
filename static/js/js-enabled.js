// Runs first in <body>, before the page paints, so GOV.UK Frontend's JavaScript-only
// styles apply at once (a file, not inline script: the Content-Security-Policy has none).
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
