/* The client's page, printed in one click from the plan: "Print the client's page" opens it
   with print=1, and the browser's Print opens once the page and its map have loaded (the map
   fits itself to the paper before printing: plan-map.js). A "Print" button on the page does
   the same; without JavaScript the browser's own Print is there. */
(function () {
  "use strict";
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  if (document.querySelector("[data-print-now]")) {
    window.addEventListener("load", function () {
      window.setTimeout(function () { window.print(); }, 200);
    });
  }
})();
