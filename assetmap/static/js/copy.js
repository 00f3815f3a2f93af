/* "Copy the text" buttons: copy the named text box to the clipboard. Without JavaScript the
   buttons stay hidden and the text can be selected by hand. */
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = button.parentNode.querySelector(".copy-status");
    if (!source || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.value).then(function () {
        if (status) status.textContent = "Copied.";
      }, function () {
        source.select();
        if (status) status.textContent = "Select the text and copy it.";
      });
    });
  });
})();
