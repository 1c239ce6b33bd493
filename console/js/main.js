// The console's entry: the token form and the views by address (#/streams, #/streams/<id>).
import { token } from "./api.js";
import { showError } from "./dom.js";
import { streamsView } from "./streams.js";
import { streamView } from "./stream.js";

let leave = null;

async function show() {
  if (leave) leave();
  leave = null;
  showError(null);
  const view = document.getElementById("view");
  view.replaceChildren();
  const stream = location.hash.match(/^#\/streams\/([^/]+)$/);
  try {
    leave = stream ? await streamView(view, decodeURIComponent(stream[1])) : await streamsView(view);
  } catch (error) {
    showError(error);
  }
}

document.getElementById("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("token");
  token.set(input.value.trim());
  input.value = "";
  show();
});
document.getElementById("forget-token").addEventListener("click", () => {
  token.clear();
  show();
});
window.addEventListener("hashchange", show);
show();
