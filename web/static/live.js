/* Live updates (twinning.web.live): a page whose <body data-live="visit:<id> ..."> names what
   it shows follows the changes other people make to it. Server-sent events from /ui/live say
   that something it watches was changed (ids and event types only); the page then fetches
   itself again and swaps its main content (htmx), without a full reload. While the reader is
   typing in a form of the page, nothing is swapped under their hands: a bar says the page
   changed and offers to show it. Screen readers hear either, politely (aria-live).
   EventSource reconnects by itself; the stream ends with the sign-in session. */
(function () {
  "use strict";

  var body = document.body;
  var watch = body && body.dataset.live;
  if (!watch || !window.EventSource || !window.htmx) {
    return;
  }

  var texts = { updated: "", changed: "", show: "" };
  var waiting = false; // a change arrived that the page does not show yet
  var fetching = false;
  var quiet = 0; // the timer that takes the "updated" note away
  var again = false; // another change arrived while fetching
  var offered = false; // the bar offers to show the changes
  // The refresh under way was not asked for by the reader: it gives way to a form they began
  // while it was being fetched (`gaveWay`), as `changed` does to one begun before.
  var guarded = false;
  var gaveWay = false;
  var LIVE_HEADER = "X-Twinning-Live";

  // The bar: a status message (announced politely) and the button that shows the changes.
  var bar = document.createElement("div");
  bar.className = "banner live-bar";
  bar.id = "live-bar";
  var message = document.createElement("p");
  message.className = "live-message";
  // Polite, like role="status", without being one more "status" of the page (its own
  // banners are: a test or a reader looking for the page's status finds those).
  message.setAttribute("aria-live", "polite");
  message.setAttribute("aria-atomic", "true");
  var show = document.createElement("button");
  show.type = "button";
  show.hidden = true;
  bar.appendChild(message);
  bar.appendChild(show);
  body.appendChild(bar);

  function say(text, offer) {
    window.clearTimeout(quiet);
    message.textContent = text;
    show.textContent = texts.show;
    show.hidden = !offer;
    bar.classList.toggle("shown", Boolean(text));
  }

  function main() {
    return document.getElementById("main");
  }

  // The reader is busy with a form of the page: in a field, or has typed something in one.
  function busy() {
    var area = main();
    if (!area) {
      return false;
    }
    var active = document.activeElement;
    if (active && area.contains(active) && active.matches("input, textarea, select")) {
      return true;
    }
    var fields = area.querySelectorAll("input, textarea, select");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.type === "hidden" || field.type === "submit" || field.type === "button") {
        continue;
      }
      if (field.type === "checkbox" || field.type === "radio") {
        if (field.checked !== field.defaultChecked) {
          return true;
        }
      } else if (field.tagName === "SELECT") {
        if (chosen(field)) {
          return true;
        }
      } else if (field.value !== field.defaultValue) {
        return true;
      }
    }
    return false;
  }

  // Whether the reader chose another option than the page came with. A single choice with no
  // option marked `selected` comes with the first option that is not disabled.
  function chosen(select) {
    var options = select.options;
    var marked = false;
    var j;
    for (j = 0; j < options.length; j++) {
      marked = marked || options[j].defaultSelected;
    }
    if (!select.multiple && !marked) {
      for (j = 0; j < options.length && options[j].disabled; j++) {}
      return options.length > 0 && select.selectedIndex !== j;
    }
    for (j = 0; j < options.length; j++) {
      if (options[j].selected !== options[j].defaultSelected) {
        return true;
      }
    }
    return false;
  }

  // `asked`: the reader asked to see the changes (the bar's button), whatever they typed.
  function refresh(asked) {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    waiting = false;
    guarded = asked !== true;
    gaveWay = false;
    var headers = {};
    headers[LIVE_HEADER] = "refresh";
    window.htmx
      .ajax("GET", window.location.href, {
        target: "#main",
        select: "#main",
        swap: "outerHTML",
        headers: headers,
      })
      .then(
        function () {
          if (gaveWay) {
            waiting = true;
            offered = true;
            say(texts.changed, true);
            return;
          }
          // The button went away with the offer: bring the reader to what changed.
          if (document.activeElement === show || document.activeElement === document.body) {
            var area = main();
            if (area && offered) {
              area.focus();
            }
          }
          offered = false;
          say("", false);
          // Cleared first, so that the same words are announced again.
          window.setTimeout(function () {
            say(texts.updated, false);
            quiet = window.setTimeout(function () {
              say("", false);
            }, 10000);
          }, 50);
        },
        function () {
          waiting = true;
        }
      )
      .finally(function () {
        fetching = false;
        if (again) {
          again = false;
          changed();
        }
      });
  }

  function changed() {
    if (busy()) {
      waiting = true;
      offered = true;
      say(texts.changed, true);
    } else if (document.hidden) {
      waiting = true; // shown when the reader comes back to the tab
    } else {
      refresh();
    }
  }

  show.addEventListener("click", function () {
    refresh(true);
  });
  // The page was fetched while nobody typed; should the reader have begun a form of it since,
  // nothing is swapped under their hands either: the bar offers the changes instead.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var config = event.detail.requestConfig;
    if (guarded && config && config.headers && config.headers[LIVE_HEADER] && busy()) {
      event.detail.shouldSwap = false;
      gaveWay = true;
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && waiting && !busy()) {
      refresh();
    }
  });
  // Leaving the page's forms without having typed anything: show what waits. (Not while
  // focus moves to a button of the form: swapping it away would lose the click.)
  document.addEventListener("focusout", function () {
    window.setTimeout(function () {
      var area = main();
      var inside = area && area.contains(document.activeElement);
      if (waiting && !fetching && !inside && !busy() && !document.hidden) {
        refresh();
      }
    }, 0);
  });

  var source = new EventSource("/ui/live?watch=" + encodeURIComponent(watch));
  source.addEventListener("ready", function (event) {
    try {
      texts = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    body.dataset.liveState = "ready";
  });
  source.addEventListener("change", changed);
  source.addEventListener("error", function () {
    // Closed for good (signed out, a refusal): EventSource does not retry; else it does.
    body.dataset.liveState = source.readyState === EventSource.CLOSED ? "closed" : "reconnecting";
  });
})();
