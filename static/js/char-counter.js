/* Live counter for a text box with a limit (textarea[data-counted="2000"]): "1,234 of 2,000 characters",
 * and how many are too many, instead of cutting what the person typed. */
(function () {
  "use strict";

  function setup(box) {
    var limit = Number(box.getAttribute("data-counted"));
    var counter = document.getElementById((box.getAttribute("aria-describedby") || "").split(" ")[0]);
    if (!counter || !limit) { return; }
    var holder = box.closest("[data-locale]") || document.documentElement;
    var locale = holder.getAttribute("data-locale") || holder.getAttribute("lang") || undefined;
    function n(value) {
      try { return new Intl.NumberFormat(locale).format(value); } catch (e) { return String(value); }
    }
    function update() {
      var used = box.value.length;
      var over = used - limit;
      counter.textContent = n(used) + " of " + n(limit) + " characters" + (over > 0 ? ": " + n(over) + " too many" : "");
      counter.classList.toggle("error", over > 0);
      box.setAttribute("aria-invalid", over > 0 ? "true" : "false");
    }
    counter.setAttribute("aria-live", "polite");
    box.addEventListener("input", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-counted]").forEach(setup);
  });
})();
