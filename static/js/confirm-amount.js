/* Ask before an empty amount takes everything (form[data-confirm-all]): a recall with no amount takes the whole
 * budget, a claw-back with no amount the whole pool. The question names the figure (data-confirm-all, e.g.
 * "Recall the whole budget of 4,000 points from Priya?"); on yes, the figure goes with the form
 * (input[name=confirm_all]), so the server takes exactly what was confirmed. Without JavaScript the server
 * asks the same question on a page of its own. */
(function () {
  "use strict";

  // Capture phase on the document: runs before the form's own submit listeners (e.g. data-once).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-confirm-all]")) { return; }
    var amount = form.querySelector("input[name=amount]");
    var confirmed = form.querySelector("input[name=confirm_all]");
    if (!amount || amount.value.trim() !== "" || !confirmed || confirmed.value !== "") { return; }
    if (window.confirm(form.getAttribute("data-confirm-all"))) {
      confirmed.value = form.getAttribute("data-whole");
    } else {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
