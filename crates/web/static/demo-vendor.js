// The demo shop: one click opens the platform's popup; the shop's backend
// exchanges the code for the person's profile with the shop's API key.
(function () {
  var main = document.getElementById("main");
  var output = document.getElementById("output");
  var busy = false;
  document.getElementById("connect").addEventListener("click", function () {
    var flow = window.OnrampConnect.open({ clientId: main.dataset.clientId });
    // A second click while the popup is open only brings it to the front:
    // the code it returns is exchanged once, by the first click's handler.
    if (busy) return;
    busy = true;
    output.textContent = "Waiting for the popup…";
    flow
      .then(function (result) {
        return fetch("/demo/vendor/exchange", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(result)
        }).then(function (r) { return r.json(); });
      })
      .then(function (profile) {
        output.textContent = JSON.stringify(profile, null, 2);
        output.dataset.state = profile.user ? "profile" : "error";
      })
      .catch(function (error) {
        output.textContent = "Sign-up did not complete: " + (error.code || error.message);
        output.dataset.state = error.code || "error";
      })
      .then(function () {
        busy = false;
      });
  });
})();
