// Copy buttons of the calendar feed links: progressive enhancement. Without this script the
// buttons stay hidden and the links stay selectable text. A button names what it copies by id
// (data-copy): an input's value, or an element's text.
(function () {
  "use strict";
  function text(target) {
    return "value" in target ? target.value : target.textContent;
  }
  function select(target) {
    if (typeof target.select === "function") {
      target.select();
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(target);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  function announce(button) {
    var message = button.getAttribute("data-done") || "";
    var status = document.getElementById("copied");
    if (status) status.textContent = message;
    var label = button.firstChild;
    if (label && label.nodeType === Node.TEXT_NODE && message) {
      var before = label.nodeValue;
      label.nodeValue = message;
      window.setTimeout(function () { label.nodeValue = before; }, 2000);
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (!navigator.clipboard) return;
    document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
      var target = document.getElementById(button.getAttribute("data-copy"));
      if (!target) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        select(target);
        navigator.clipboard.writeText(text(target)).then(
          function () { announce(button); },
          function () { /* the text stays selected: copy it by hand */ }
        );
      });
    });
  });
})();
