// Accessibility: a table wider than the screen scrolls inside itself (style.css, small screens);
// a scrolling box must be reachable with the keyboard (WCAG 2.1.1), so such a table gets a tab
// stop — and loses it again when the window grows and it no longer scrolls.
(function () {
  "use strict";
  function mark() {
    var tables = document.querySelectorAll("main table");
    for (var i = 0; i < tables.length; i++) {
      var table = tables[i];
      if (table.closest(".table-scroll")) continue;
      if (table.scrollWidth > table.clientWidth + 1) {
        table.setAttribute("tabindex", "0");
      } else if (table.getAttribute("tabindex") === "0") {
        table.removeAttribute("tabindex");
      }
    }
  }
  document.addEventListener("DOMContentLoaded", mark);
  document.addEventListener("htmx:afterSwap", mark);
  window.addEventListener("resize", mark);
})();
