// topology.js keeps the topology page live: every few seconds it fetches
// the page again (through the web tier, so each refresh may reach another
// app instance, as a reload would) and swaps in the fresh #topology section
// and footer. The page renders everything itself, so this script draws
// nothing; without it, a <noscript> meta refresh reloads the page whole.
(function () {
  "use strict";
  var section = document.getElementById("topology");
  if (!section || !window.fetch || !window.DOMParser) {
    return;
  }
  var every = (parseInt(section.getAttribute("data-refresh"), 10) || 5) * 1000;
  var timer = 0;
  var busy = false;

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var next = fresh.getElementById("topology");
    var live = document.getElementById("topology");
    if (!next || !live) {
      throw new Error("no #topology in the answer");
    }
    live.replaceWith(document.importNode(next, true));
    var foot = document.querySelector("footer");
    var nextFoot = fresh.querySelector("footer");
    if (foot && nextFoot) {
      foot.replaceWith(document.importNode(nextFoot, true));
    }
  }

  function stale() {
    var live = document.getElementById("topology");
    if (live) {
      live.classList.add("stale");
      var status = live.querySelector(".live");
      if (status) {
        status.textContent = live.getAttribute("data-stale") || "…";
      }
    }
  }

  function refresh() {
    timer = 0;
    busy = true;
    fetch(location.pathname + location.search, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "text/html" }
    }).then(function (resp) {
      if (!resp.ok) {
        throw new Error("status " + resp.status);
      }
      return resp.text();
    }).then(swap).catch(stale).then(function () {
      busy = false;
      schedule();
    });
  }

  function schedule() {
    if (!timer && !busy && !document.hidden) {
      timer = setTimeout(refresh, every);
    }
  }

  // A hidden tab stops asking; it catches up when it is shown again.
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !timer && !busy) {
      refresh();
    }
  });
  schedule();
})();
