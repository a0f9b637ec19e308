/* Copy button (button[data-copy="<id of the element to copy>"]): shown only where script runs, copies the
 * element's text and says so next to the button. */
(function () {
  "use strict";

  function copied(button, text) {
    var status = button.parentElement.querySelector("[data-copy-status]");
    if (status) { status.textContent = text; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        var text = source.textContent.trim();
        var done = function () { copied(button, "Copied."); button.setAttribute("data-copied", text); };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(text).then(done, function () { selectText(source); copied(button, "Selected: press Ctrl+C to copy."); });
        } else {
          selectText(source);
          copied(button, "Selected: press Ctrl+C to copy.");
        }
      });
    });
  });

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
})();
