// Ends the consent popup: sends the result to the vendor page that opened it,
// only to the origin the app registered, then closes.
(function () {
  var el = document.getElementById("connect-result");
  if (!el || !window.opener) return;
  var message = { type: "onramp:connect", state: el.dataset.state };
  if (el.dataset.error) message.error = el.dataset.error;
  else message.code = el.dataset.code;
  window.opener.postMessage(message, el.dataset.origin);
  window.close();
})();
