/* The booking site's one script. Times are rendered in the studio's zone; when the visitor asks for their own
   (a link with tz=local, remembered in localStorage), each <time data-instant> is rewritten in the browser's
   zone and the zone's name beside it too. Without JavaScript the studio's zone is shown. */
(function () {
  "use strict";
  var KEY = "trainerhub-book-tz";

  function remembered() {
    try { return window.localStorage.getItem(KEY); } catch (error) { return null; }
  }

  function remember(mode) {
    try { window.localStorage.setItem(KEY, mode); } catch (error) { /* private mode: not kept */ }
  }

  function mode() {
    var asked = new URLSearchParams(window.location.search).get("tz");
    if (asked === "local" || asked === "studio") {
      remember(asked);
      return asked;
    }
    return remembered() === "local" ? "local" : "studio";
  }

  function isoDay(when) {
    var month = String(when.getMonth() + 1).padStart(2, "0");
    var day = String(when.getDate()).padStart(2, "0");
    return when.getFullYear() + "-" + month + "-" + day;
  }

  function apply(root) {
    var local = mode() === "local";
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    root.querySelectorAll("[data-instant]").forEach(function (element) {
      if (element.dataset.studioText === undefined) { element.dataset.studioText = element.textContent; }
      if (!local) { element.textContent = element.dataset.studioText; return; }
      var when = new Date(element.dataset.instant);
      var options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
      if (element.dataset.format === "datetime") {
        options.weekday = "long"; options.day = "numeric"; options.month = "long";
      } else if (element.dataset.day && element.dataset.day !== isoDay(when)) {
        options.weekday = "short";  // the studio's day column, but another day where the visitor is
      }
      element.textContent = new Intl.DateTimeFormat("en-GB", options).format(when);
    });
    root.querySelectorAll("[data-zone-name]").forEach(function (element) {
      element.textContent = local ? zone : element.dataset.studioZone;
    });
    root.querySelectorAll("[data-tz-toggle]").forEach(function (element) {
      element.hidden = (element.dataset.tzToggle === "local") === local;
    });
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-tz-toggle]");
    if (toggle) { remember(toggle.dataset.tzToggle); }
  });
  document.addEventListener("htmx:afterSwap", function (event) { apply(event.detail.target); });
  document.addEventListener("htmx:historyRestore", function () { apply(document); });
  apply(document);
}());
