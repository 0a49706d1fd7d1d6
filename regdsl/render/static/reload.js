/*
 * Live reload for `regdsl serve` (regdsl): the server adds this script to the pages it serves,
 * never to a site on disk. It listens to the server's events and reloads the page when a
 * rebuild has finished. data-generation is the build the page came from: a rebuild that
 * finished before the page connected still reloads it.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var since = (script && script.getAttribute("data-generation")) || "0";
  var events = new EventSource("/__regdsl/events?since=" + encodeURIComponent(since));
  events.addEventListener("reload", function () {
    events.close();
    window.location.reload();
  });
}());
