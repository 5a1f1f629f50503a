// The web chat: sends what the farmer types (or the payload of a tapped button) and shows the replies.
// Text is always inserted with textContent, never as HTML. “删除我的记录” (the link, or typed) asks first.
(function () {
  "use strict";
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var FORGET_WORDS = "删除我的记录";

  function show(text, who, buttons) {
    var bubble = document.createElement("div");
    bubble.className = "msg " + who;
    bubble.textContent = text;
    if (buttons && buttons.length) {
      var row = document.createElement("div");
      row.className = "buttons";
      buttons.forEach(function (b) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = b.title;
        button.addEventListener("click", function () {
          // A page-side choice (such as confirming a deletion) is answered once: its buttons go.
          if (b.action) { row.remove(); b.action(); } else { send(b.payload, b.title); }
        });
        row.appendChild(button);
      });
      bubble.appendChild(row);
    }
    log.appendChild(bubble);
    log.scrollTop = log.scrollHeight;
    return bubble;
  }

  function send(message, shown) {
    show(shown || message, "user");
    var waiting = show("…", "bot");
    fetch("/api/messages", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ message: message })
    }).then(function (r) { return r.json(); }).then(function (data) {
      waiting.remove();
      if (data.error) { show(data.error, "bot"); return; }
      data.replies.forEach(function (reply) { show(reply.text, "bot", reply.buttons); });
      // The message was kept to answer later: look for the answer every few seconds for a while.
      if (data.deferred) { soonUntil = Date.now() + SOON_FOR_MS; pollSoon(); }
    }).catch(function () {
      waiting.remove();
      show("网络不通，请稍后再试。", "bot");
    });
  }

  function forget() {
    fetch("/api/forget", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ confirm: true })
    }).then(function (r) { return r.json(); }).then(function (data) {
      if (data.error) { show(data.error, "bot"); return; }
      log.textContent = "";
      shown = {};
      show(data.message, "bot");
    }).catch(function () {
      show("网络不通，记录还没有删除，请稍后再试。", "bot");
    });
  }

  function askToForget() {
    show("确定要删除您在乡信的全部记录吗？包括聊天记录、所在地区、价格提醒和转给信息员的问题。删除后不能恢复。", "bot", [
      { title: "确认删除", action: forget },
      { title: "取消", action: function () { show("好的，记录没有删除。", "bot"); } }
    ]);
  }

  // 我的地区: the farmer's own place, the only way the web chat sets it (a place in a question never does).
  function setRegion(body) {
    fetch("/api/region", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json(); }).then(function (data) {
      var choices = (data.choices || []).map(function (c) {
        return { title: c.label, action: function () { setRegion({ region_id: c.id }); } };
      });
      show(data.message || data.error, "bot", choices);
    }).catch(function () { show("网络不太好，请稍后再试。", "bot"); });
  }

  document.getElementById("region").addEventListener("click", function (event) {
    event.preventDefault();
    var place = window.prompt("您在哪个县、乡镇？（例如：藁城）");
    if (place) { setRegion({ place: place }); }
  });

  document.getElementById("forget").addEventListener("click", function (event) {
    event.preventDefault();
    askToForget();
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    if (text === FORGET_WORDS) { show(text, "user"); askToForget(); return; }
    send(text);
  });
  // Pushes (an information officer's answer, price alerts) wait on the server until the page asks, and
  // count as delivered only once the page says it showed them; unacknowledged ones come again.
  var POLL_MS = 30000;
  var SOON_MS = 4000;
  var SOON_FOR_MS = 180000;
  var soonUntil = 0;
  var pollTimer = null;
  var polling = false;
  var shown = {};
  function nextPoll() {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(poll, Date.now() < soonUntil ? SOON_MS : POLL_MS);
  }
  function pollSoon() { if (!polling) { nextPoll(); } }
  function acknowledge(ids) {
    if (!ids.length) { return Promise.resolve(); }
    return fetch("/api/messages/delivered", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ids: ids })
    });
  }
  function poll() {
    polling = true;
    fetch("/api/messages/pending", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { messages: [] }; })
      .then(function (data) {
        var ids = [];
        data.messages.forEach(function (m) {
          // Offered again after a lost acknowledgement: shown once on this page, acknowledged again.
          if (!shown[m.id]) { show(m.text, "bot push", m.buttons); shown[m.id] = true; }
          ids.push(m.id);
        });
        return acknowledge(ids);
      })
      .catch(function () { /* offline for now: the next poll asks again */ })
      .then(function () { polling = false; nextPoll(); });
  }

  show("您好！我是乡信。可以问我农产品价格、惠农政策、养老和医保。", "bot");
  poll();
}());
