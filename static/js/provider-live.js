// Live status page: htmx swaps in the fresh status; tell screen-reader users when the
// headline (places booked, offers sent) changes, without re-reading the whole page.
(function () {
  "use strict";
  var announcer = document.getElementById("live-announcer");
  var last = document.getElementById("live-summary");
  var lastText = last ? last.textContent : "";
  document.body.addEventListener("htmx:afterSwap", function () {
    var summary = document.getElementById("live-summary");
    if (!announcer || !summary) { return; }
    if (summary.textContent !== lastText) {
      lastText = summary.textContent;
      announcer.textContent = lastText;
    }
  });
})();
