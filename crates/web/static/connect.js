// Onramp Connect SDK: OnrampConnect.open({ clientId }) opens the platform's
// consent popup and resolves with { code, codeVerifier } for the vendor's
// backend, or rejects with an Error whose `code` is access_denied,
// popup_closed or popup_blocked.
(function () {
  "use strict";
  var script = document.currentScript;
  var platform = new URL(script.src).origin;

  function b64url(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function random(n) {
    var b = new Uint8Array(n);
    crypto.getRandomValues(b);
    return b64url(b);
  }
  function fail(code) {
    var e = new Error(code);
    e.code = code;
    return e;
  }

  // One flow at a time: a second call while the popup is open focuses it and
  // shares the pending result instead of starting a flow the first would spoil.
  var current = null;

  function open(options) {
    if (current && !current.popup.closed) {
      current.popup.focus();
      return current.promise;
    }
    var clientId = options && options.clientId;
    if (!clientId) return Promise.reject(fail("missing_client_id"));
    var width = 480, height = 640;
    var left = window.screenX + Math.max(0, (window.outerWidth - width) / 2);
    var top = window.screenY + Math.max(0, (window.outerHeight - height) / 2);
    // Opened at once, within the click, so that popup blockers allow it.
    var popup = window.open("about:blank", "onramp-connect",
      "popup=yes,width=" + width + ",height=" + height + ",left=" + left + ",top=" + top);
    if (!popup) return Promise.reject(fail("popup_blocked"));
    var verifier = random(32);
    var state = random(16);
    var flow = { popup: popup, promise: null };
    current = flow;
    flow.promise = crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)).then(function (digest) {
      var challenge = b64url(new Uint8Array(digest));
      popup.location.href = platform + "/connect?client_id=" + encodeURIComponent(clientId) +
        "&origin=" + encodeURIComponent(window.location.origin) + "&state=" + state +
        "&code_challenge=" + challenge + "&code_challenge_method=S256";
      return new Promise(function (resolve, reject) {
        function done() {
          window.removeEventListener("message", onMessage);
          clearInterval(timer);
        }
        function onMessage(event) {
          var data = event.data;
          if (event.origin !== platform || !data || data.type !== "onramp:connect" || data.state !== state) return;
          done();
          if (data.error) reject(fail(data.error));
          else resolve({ code: data.code, codeVerifier: verifier });
        }
        var timer = setInterval(function () {
          if (popup.closed) {
            done();
            reject(fail("popup_closed"));
          }
        }, 300);
        window.addEventListener("message", onMessage);
      });
    });
    flow.promise.then(forget, forget);
    function forget() {
      if (current === flow) current = null;
    }
    return flow.promise;
  }

  window.OnrampConnect = { open: open };
})();
