/* Award preview ([data-award-form]): before Send, the total (points × recipients), which source will pay
 * and what is left there afterwards. The rule mirrors recognition.services.resolve_funding_source: a manager's
 * award is paid by the company pool when it covers the whole total, otherwise by the giver's lead budget when
 * that covers it; otherwise the server refuses it. Choosing kudos hides the points. */
(function () {
  "use strict";

  function setup(form) {
    var preview = form.querySelector("[data-award-preview]");
    var points = form.querySelector("[data-award-points]");
    var pointsField = form.querySelector("[data-points-field]");
    if (!preview || !points) { return; }
    var locale = form.getAttribute("data-locale") || undefined;
    var pool = form.hasAttribute("data-pool") ? Number(form.getAttribute("data-pool")) : null;
    var budget = form.hasAttribute("data-budget") ? Number(form.getAttribute("data-budget")) : null;

    function n(value) {
      try { return new Intl.NumberFormat(locale).format(value); } catch (e) { return String(value); }
    }

    function kind() {
      var checked = form.querySelector("input[name=kind]:checked");
      return checked ? checked.value : "";
    }

    function update() {
      var recipients = form.querySelectorAll("[data-recipient-picker] input[type=checkbox]:checked").length;
      var isKudos = kind() === "kudos";
      pointsField.hidden = isKudos;
      points.disabled = isKudos;
      points.required = kind() === "points";
      preview.hidden = false;
      preview.classList.remove("short");
      var who = n(recipients) + (recipients === 1 ? " recipient" : " recipients");
      if (kind() === "") { preview.textContent = "Choose points or kudos."; return; }
      if (isKudos) {
        preview.textContent = recipients ? "Kudos to " + who + ": no points move." : "Kudos: choose at least one recipient.";
        return;
      }
      var each = Number(points.value);
      if (!points.value || !isFinite(each) || each < 1 || Math.floor(each) !== each) {
        preview.textContent = "Enter the points per recipient to see the total.";
        return;
      }
      if (!recipients) { preview.textContent = n(each) + " points each: choose at least one recipient."; return; }
      var total = each * recipients;
      var text = "Total " + n(total) + " points (" + n(each) + " × " + who + "), ";
      if (pool !== null && pool >= total) {
        text += "paid from the company pool: " + n(pool) + " now, " + n(pool - total) + " left afterwards.";
      } else if (budget !== null && budget >= total) {
        text += "paid from your lead budget: " + n(budget) + " now, " + n(budget - total) + " left afterwards.";
      } else {
        preview.classList.add("short");
        text += "more than is available (" + (pool !== null ? "company pool " + n(pool) : "")
          + (pool !== null && budget !== null ? ", " : "") + (budget !== null ? "your lead budget " + n(budget) : "")
          + "): this award would be refused.";
      }
      preview.textContent = text;
    }

    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-award-form]").forEach(setup);
  });
})();
