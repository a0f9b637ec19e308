/* Perksu pages: small progressive enhancements. Everything works without it.
 * - [data-pool-card]: refreshes the pool card from its JSON every
 *   data-refresh-seconds (default 30) without reloading the page.
 * - form[data-once]: disables the submit button once the form is sent
 *   (the server's one-time token is what really stops a double award).
 * - form[data-confirm]: asks before submitting.
 */
(function () {
  "use strict";

  var STATUS_CLASSES = ["status-ready", "status-low", "status-empty"];

  function refreshPoolCard(card) {
    var url = card.getAttribute("data-pool-url");
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("pool refresh failed: " + response.status); }
        return response.json();
      })
      .then(function (data) {
        card.querySelectorAll("[data-field]").forEach(function (el) {
          var name = el.getAttribute("data-field");
          if (name === "updated") {
            el.textContent = new Date().toTimeString().slice(0, 8);
          } else if (name === "currency_label") {
            el.textContent = String(data.currency_label).toLowerCase();
          } else if (Object.prototype.hasOwnProperty.call(data, name)) {
            el.textContent = data[name];
          }
        });
        STATUS_CLASSES.forEach(function (cls) { card.classList.remove(cls); });
        card.classList.add("status-" + data.balance_status);
        card.setAttribute("data-refreshed", String(Date.now()));
        return data;
      })
      .catch(function () {
        card.setAttribute("data-refresh-error", String(Date.now()));
      });
  }

  function startPoolCards() {
    var cards = document.querySelectorAll("[data-pool-card]");
    cards.forEach(function (card) {
      var seconds = parseFloat(card.getAttribute("data-refresh-seconds")) || 30;
      card._perksuTimer = window.setInterval(function () {
        if (!document.hidden) { refreshPoolCard(card); }
      }, seconds * 1000);
    });
  }

  /* For tests and the console: refresh every pool card now, or change the interval. */
  window.perksuPool = {
    refresh: function () {
      return Promise.all(Array.prototype.map.call(document.querySelectorAll("[data-pool-card]"), refreshPoolCard));
    },
    setInterval: function (seconds) {
      document.querySelectorAll("[data-pool-card]").forEach(function (card) {
        window.clearInterval(card._perksuTimer);
        card.setAttribute("data-refresh-seconds", String(seconds));
      });
      startPoolCards();
    }
  };

  function guardForms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); event.stopImmediatePropagation(); }
      });
    });
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      form.addEventListener("submit", function () {
        // After this tick, so the clicked button's own value still goes with the form.
        window.setTimeout(function () {
          form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (button) {
            button.disabled = true;
            button.setAttribute("aria-busy", "true");
          });
        }, 0);
      });
    });
  }

  // A page restored from the back/forward cache gets its buttons back; its token replays, never repeats.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[data-once] [aria-busy=true]").forEach(function (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    startPoolCards();
    guardForms();
  });
})();
