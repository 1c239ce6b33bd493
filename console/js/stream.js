// One stream: encoder settings, start/stop/delete, CDN, the live player, its events, its sessions.
import { api } from "./api.js";
import { every, h, showError, when } from "./dom.js";
import { sessionsSection } from "./sessions.js";
import { forgetPictures, liveBadges, mayBeOnAir, pictureOf } from "./streams.js";

/** `rtmp://host:port/app/<key>` as the server URL an encoder asks for and the stream key. */
function ingest(url) {
  const cut = url.lastIndexOf("/");
  return { server: url.slice(0, cut), key: url.slice(cut + 1) };
}

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    button.textContent = "Copy failed";
  }
  setTimeout(() => (button.textContent = button.dataset.label), 1500);
}

function copyButton(label, text) {
  const button = h("button", { type: "button", "data-label": label }, label);
  button.addEventListener("click", () => copy(text(), button));
  return button;
}

/** Server URL and stream key of one pipeline; the key hidden until revealed. */
function encoderSettings(pipeline, url) {
  const { server, key } = ingest(url);
  const shown = h("code", { id: `key-${pipeline}`, "aria-live": "polite" }, "••••••••");
  let revealed = false;
  const reveal = h("button", { type: "button", "aria-controls": `key-${pipeline}`, "aria-pressed": "false" }, `Reveal key ${pipeline}`);
  reveal.addEventListener("click", () => {
    revealed = !revealed;
    shown.textContent = revealed ? key : "••••••••";
    reveal.setAttribute("aria-pressed", String(revealed));
    reveal.textContent = `${revealed ? "Hide" : "Reveal"} key ${pipeline}`;
  });
  return [
    h("dt", {}, `Pipeline ${pipeline} server`),
    h("dd", {}, h("code", { id: `server-${pipeline}` }, server), copyButton(`Copy server ${pipeline}`, () => server)),
    h("dt", {}, `Pipeline ${pipeline} stream key`),
    h("dd", {}, shown, reveal, copyButton(`Copy key ${pipeline}`, () => key)),
  ];
}

export async function streamView(view, id) {
  let record = await api("GET", `/streams/${encodeURIComponent(id)}`);
  const title = h("h1", {}, record.name || "(no name)");
  const description = h("p", { class: "muted" }, record.description || "");
  const status = h("div", { class: "row", id: "status", "aria-live": "polite" });
  const controls = h("div", { class: "row" });
  const playerBox = h("div");
  const events = h("ol", { class: "events", id: "events", "aria-label": "Events" });
  const pictures = new Map();
  let player = null;
  let lastEvent = 0;

  const act = async (method, path, confirmText) => {
    if (confirmText && !window.confirm(confirmText)) return;
    try {
      const answer = await api(method, `/streams/${encodeURIComponent(id)}${path}`);
      if (method === "DELETE" && path === "") {
        location.hash = "#/streams";
        return;
      }
      record = answer;
      render();
    } catch (error) {
      showError(error);
    }
  };

  const render = () => {
    title.textContent = record.name || "(no name)";
    description.textContent = record.description || "";
    status.replaceChildren(
      h("span", { class: "badge" }, record.state), ...liveBadges(record),
      pictureOf(pictures, id, record, "Picture of the live stream") || "",
      h("span", { class: "muted" }, `last started ${when(record.last_started)}`));
    controls.replaceChildren(
      record.started
        ? h("button", { type: "button", onclick: () => act("POST", "/stop") }, "Stop")
        : h("button", { type: "button", onclick: () => act("POST", "/start") }, "Start"),
      record.cloudfront_associated
        ? h("button", { type: "button", onclick: () => act("DELETE", "/live") }, "CDN off")
        : h("button", { type: "button", onclick: () => act("POST", "/live") }, "CDN on"),
      h("button", { type: "button", class: "danger", onclick: () => act("DELETE", "", `Delete the stream "${record.name}"? Its channel and keys go; its archive stays.`) }, "Delete stream"));
    if (mayBeOnAir(record) && !player) {
      // Made once an encoder publishes, or at start where the backend cannot tell (before, the playlist
      // is missing); a load error is retried, as a live playlist appears late.
      player = h("video", { id: "player", controls: true, muted: true, autoplay: true, playsinline: true, "aria-label": "Live player" });
      player.addEventListener("error", () => {
        const failed = player;
        setTimeout(() => {
          if (failed === player) {
            failed.src = record.viewer_endpoint;
            failed.play().catch(() => {});
          }
        }, 2000);
      });
      player.src = record.viewer_endpoint;
      playerBox.replaceChildren(player);
      player.play().catch(() => {});
    } else if (!record.started && player) {
      player.pause();
      player = null;
      playerBox.replaceChildren(h("p", { class: "muted" }, "The stream is stopped."));
    } else if (!player) {
      playerBox.replaceChildren(h("p", { class: "muted" }, "Start the stream and point an encoder at it to see it here."));
    }
  };

  const sessions = h("div");
  view.append(
    h("p", {}, h("a", { href: "#/streams" }, "← All streams")),
    title, description,
    h("section", {}, status, controls),
    h("section", {}, h("h2", {}, "Encoder settings (OBS, ffmpeg)"),
      h("dl", { class: "settings" }, encoderSettings(1, record.rtmp1), encoderSettings(2, record.rtmp2)),
      h("p", { class: "muted" }, "ffmpeg: ffmpeg -re -i INPUT -c:v libx264 -g 50 -c:a aac -f flv SERVER/KEY")),
    h("section", {}, h("h2", {}, "Live"), playerBox),
    h("section", {}, h("h2", {}, "Events"), events),
    h("section", {}, h("h2", {}, "Sessions and clips"), sessions));
  render();

  const stopRecord = every(3000, async () => {
    try {
      record = await api("GET", `/streams/${encodeURIComponent(id)}`);
      render();
    } catch (error) {
      showError(error);
    }
  });
  const stopEvents = every(2000, async () => {
    try {
      const page = await api("GET", `/streams/${encodeURIComponent(id)}/events?after=${lastEvent}&limit=100`);
      for (const event of page.events) {
        events.prepend(h("li", {}, h("time", {}, new Date(event.at).toLocaleTimeString()), " ", h("strong", {}, event.type), " ",
          h("span", { class: "muted" }, JSON.stringify(event.data))));
      }
      lastEvent = page.next_after;
    } catch (error) {
      if (error.status !== 404) showError(error);
    }
  });
  const stopSessions = sessionsSection(sessions, id);
  return () => {
    stopRecord();
    stopEvents();
    stopSessions();
    forgetPictures(pictures);
  };
}
