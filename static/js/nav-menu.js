/* Below 48rem the member navigation folds behind a "Menu" button, so the header stays one line on a phone.
 * Without script the links simply show. */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-menu-button]");
    var nav = button && document.getElementById(button.getAttribute("aria-controls"));
    if (!nav) { return; }
    var narrow = window.matchMedia("(max-width: 47.99rem)");

    function setOpen(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("collapsed", !open);
    }

    function apply() {
      button.hidden = !narrow.matches;
      setOpen(!narrow.matches);
    }

    button.addEventListener("click", function () {
      setOpen(button.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && narrow.matches && button.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        button.focus();
      }
    });
    narrow.addEventListener("change", apply);
    apply();
  });
})();
