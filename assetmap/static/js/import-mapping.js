/* The import's mapping page: redraw "what these choices make of the first rows" whenever a
   select changes, without leaving the page or moving the focus. Without JavaScript the
   "Show what these choices do" button does the same with a page load. */
(function () {
  "use strict";
  var form = document.getElementById("mapping-form");
  if (!form || !window.fetch || !window.DOMParser) return;
  var pending = null;
  form.addEventListener("change", function (event) {
    if (event.target.tagName !== "SELECT") return;
    // A column's choice can add or remove a table of values; a value's choice cannot.
    var redrawValues = event.target.getAttribute("data-redraw") === "all";
    var data = new FormData(form);
    data.set("action", "update");
    if (pending) pending.abort();
    pending = new AbortController();
    // form.getAttribute: form.action would be the buttons named "action".
    fetch(form.getAttribute("action"), {method: "POST", body: data, signal: pending.signal,
                        credentials: "same-origin"})
      .then(function (answer) {
        // 400 is the page with what is wrong in the choices; anything else, leave as it is.
        if (!answer.ok && answer.status !== 400) throw new Error(answer.statusText);
        return answer.text();
      })
      .then(function (text) {
        var page = new DOMParser().parseFromString(text, "text/html");
        var ids = redrawValues ? ["sample", "value-choices"] : ["sample"];
        var summary = page.querySelector(".error-summary");
        var shown = document.querySelector(".error-summary");
        if (shown) shown.remove();
        if (summary) form.parentNode.insertBefore(document.importNode(summary, true), form);
        ids.forEach(function (id) {
          var fresh = page.getElementById(id);
          var old = document.getElementById(id);
          if (fresh && old) old.replaceWith(document.importNode(fresh, true));
        });
        var status = document.getElementById("sample-status");
        if (status) status.textContent = "The first rows below now show these choices.";
      })
      .catch(function () { /* the button still works */ });
  });
})();
