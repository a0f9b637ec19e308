/* Recipient picker of the award form ([data-recipient-picker]), over a plain list of checkboxes:
 * - "Find a colleague" filters the list; Enter in it only filters, it never sends the form;
 * - Enter on a recipient ticks or unticks it (it does not send the form either);
 * - the chosen recipients show as chips with a count, whatever the filter hides, each with a remove button.
 */
(function () {
  "use strict";

  function number(picker, value) {
    var form = picker.closest("[data-locale]");
    try { return new Intl.NumberFormat(form ? form.getAttribute("data-locale") : undefined).format(value); }
    catch (e) { return String(value); }
  }

  function nameOf(box) {
    var label = box.closest("label");
    var name = label && label.querySelector(".check-name");
    return (name || label).textContent.trim();
  }

  function setup(picker) {
    var boxes = Array.prototype.slice.call(picker.querySelectorAll(".checklist input[type=checkbox]"));
    var chosen = picker.querySelector("[data-chosen]");
    var count = picker.querySelector("[data-chosen-count]");
    var chips = picker.querySelector("[data-chips]");
    var filter = picker.querySelector("[data-recipient-filter]");
    var status = picker.querySelector("[data-filter-status]");

    function render() {
      var ticked = boxes.filter(function (box) { return box.checked; });
      var hidden = ticked.filter(function (box) { return box.closest("label").hidden; }).length;
      chosen.hidden = false;
      count.textContent = ticked.length === 0 ? "Nobody chosen yet"
        : number(picker, ticked.length) + (ticked.length === 1 ? " recipient chosen" : " recipients chosen")
          + (hidden ? " (" + number(picker, hidden) + " not shown by the filter)" : "");
      chips.textContent = "";
      ticked.forEach(function (box) {
        var item = document.createElement("li");
        item.className = "chip";
        var text = document.createElement("span");
        text.textContent = nameOf(box);
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "chip-remove";
        // The name is in the button's text (visually hidden), not an aria-label, so a label search for the
        // colleague's name finds only their checkbox.
        var cross = document.createElement("span");
        cross.setAttribute("aria-hidden", "true");
        cross.textContent = "×";
        var words = document.createElement("span");
        words.className = "visually-hidden";
        words.textContent = "Remove " + nameOf(box);
        remove.appendChild(cross);
        remove.appendChild(words);
        remove.addEventListener("click", function () {
          box.checked = false;
          box.dispatchEvent(new Event("change", { bubbles: true }));
          (filter && !filter.hidden ? filter : count).focus();
        });
        item.appendChild(text);
        item.appendChild(remove);
        chips.appendChild(item);
      });
    }

    function applyFilter() {
      var needle = filter.value.trim().toLowerCase();
      var shown = 0;
      boxes.forEach(function (box) {
        var label = box.closest("label");
        label.hidden = needle !== "" && nameOf(box).toLowerCase().indexOf(needle) === -1;  // the name, not the initials
        if (!label.hidden) { shown += 1; }
      });
      status.hidden = needle === "";
      status.textContent = needle === "" ? "" : number(picker, shown) + " of " + number(picker, boxes.length) + " shown";
      render();
    }

    boxes.forEach(function (box) {
      box.addEventListener("change", render);
      box.addEventListener("keydown", function (event) {
        if (event.key === "Enter") {
          event.preventDefault();
          box.click();
        }
      });
    });
    if (filter) {
      var label = picker.querySelector("label[for='" + filter.id + "']");
      filter.hidden = false;
      if (label) { label.hidden = false; }
      filter.addEventListener("input", applyFilter);
      filter.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); applyFilter(); }
      });
    }
    count.setAttribute("tabindex", "-1");
    render();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-recipient-picker]").forEach(setup);
  });
})();
