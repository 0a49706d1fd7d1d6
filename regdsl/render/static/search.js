/*
 * The index page's search box (regdsl): filters the list of regimens as you type.
 *
 * Plain script, no external code. The catalogue comes from search-index.js, loaded before
 * this script as a global: browsers refuse to fetch a file from a page opened from file://.
 * Without scripts the page shows the full list and no search box.
 */
(function () {
  "use strict";
  var catalogue = window.REGDSL_SEARCH;
  var form = document.getElementById("regimen-search");
  var input = document.getElementById("regimen-filter");
  var status = document.getElementById("regimen-filter-status");
  var none = document.getElementById("no-match");
  if (!Array.isArray(catalogue) || !form || !input || !status || !none) {
    return;
  }

  // Case and accents do not matter: "leukaemia" finds "Leukæmia", "cisplatin" finds "cISplatin".
  function fold(text) {
    return String(text).normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  var words = {};
  catalogue.forEach(function (entry) {
    words[entry.id] = fold(
      [entry.name, entry.id, entry.cancer.join(" "), entry.setting, entry.medicines.join(" ")].join(" ")
    );
  });
  var items = Array.prototype.slice.call(document.querySelectorAll("li[data-id]"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("[data-group]"));

  function filter() {
    var wanted = fold(input.value).split(/\s+/).filter(Boolean);
    var shown = 0;
    items.forEach(function (item) {
      var text = words[item.getAttribute("data-id")] || "";
      var match = wanted.every(function (word) { return text.indexOf(word) !== -1; });
      item.hidden = !match;
      shown += match ? 1 : 0;
    });
    groups.forEach(function (group) {  // a cancer type or a setting with nothing left to show
      group.hidden = !group.querySelector("li[data-id]:not([hidden])");
    });
    none.hidden = shown > 0;
    status.textContent = wanted.length ? shown + " of " + items.length + " regimens shown" : "";
  }

  form.hidden = false;
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  input.addEventListener("input", filter);
  if (input.value) {
    filter();  // a value the browser kept on going back
  }
}());
