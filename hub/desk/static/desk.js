// The desk's only script, and an optional one: every page works without it. It adds live
// arrivals (Server-Sent Events from the desk, a browser notification) and a filter for the
// recipient list.
(function () {
  "use strict";
  var body = document.body;
  function announce(doc) {
    var live = document.getElementById("live");
    if (!live) return;
    live.textContent = "";
    var text = document.createTextNode(body.dataset.newMessage + ": " + (doc.sender || "") + " · " +
      (doc.kind || "") + " · " + (doc.subject || "") + " ");
    var link = document.createElement("a");
    link.href = "/m/" + doc.mid;
    link.textContent = body.dataset.open;
    link.id = "live-open";
    live.appendChild(text);
    live.appendChild(link);
    if ("Notification" in window && Notification.permission === "granted") {
      // Only what the officer's own screen shows: sender and kind, never the content.
      new Notification(body.dataset.newMessage, { body: (doc.sender || "") + " · " + (doc.kind || "") });
    }
  }
  function refreshInbox() {
    var box = document.getElementById("mailbox");
    if (!box) return;
    fetch(location.href, { credentials: "same-origin" }).then(function (r) { return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("mailbox");
        if (fresh) box.replaceWith(fresh);
      });
  }
  if (window.EventSource) {
    var events = new EventSource("/events");
    events.addEventListener("message", function (e) {
      var doc = JSON.parse(e.data);
      announce(doc);
      refreshInbox();
    });
  }
  if ("Notification" in window && Notification.permission === "default") {
    document.addEventListener("click", function ask() {
      Notification.requestPermission();
      document.removeEventListener("click", ask);
    });
  }
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var list = document.querySelector(input.dataset.filter);
    input.addEventListener("input", function () {
      var wanted = input.value.toLowerCase();
      list.querySelectorAll("li").forEach(function (li) {
        li.hidden = wanted && li.textContent.toLowerCase().indexOf(wanted) < 0;
      });
    });
  });
  // The routing preview follows the recipients, group and TLP as they are chosen.
  var routingTo = document.getElementById("routing-to");
  if (routingTo) {
    var update = function () {
      var chosen = [];
      document.querySelectorAll("input[name=to]:checked").forEach(function (box) {
        chosen.push(box.value);
      });
      var group = document.getElementById("f-group");
      var text = chosen.join(", ");
      if (group && group.value) text = (text ? text + " · " : "") + group.value;
      routingTo.textContent = text || "—";
      document.getElementById("routing-tlp").textContent = document.getElementById("f-tlp").value;
    };
    document.querySelectorAll("input[name=to], #f-group, #f-tlp").forEach(function (field) {
      field.addEventListener("change", update);
    });
  }
  // The place picker: as the officer types, the desk searches the UN/LOCODE list kept on this
  // computer (never the hub) in the country chosen beside the field.
  var placeList = document.getElementById("places");
  if (placeList && window.fetch) {
    var pending = null;
    document.querySelectorAll("input[list=places]").forEach(function (input) {
      input.addEventListener("input", function () {
        clearTimeout(pending);
        pending = setTimeout(function () {
          var country = document.querySelector(
            "[name=" + input.name.replace("_locode", "_country") + "]");
          var url = "/places?q=" + encodeURIComponent(input.value) +
            "&country=" + encodeURIComponent(country ? country.value : "");
          fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); })
            .then(function (found) {
              if (!found.length) return;
              placeList.textContent = "";
              found.forEach(function (choice) {
                var option = document.createElement("option");
                option.value = choice.value;
                option.textContent = choice.label;
                placeList.appendChild(option);
              });
            });
        }, 200);
      });
    });
  }
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
