// The list of streams: state, live badges, thumbnails, a filter, and the form that creates one.
import { api, apiPicture } from "./api.js";
import { every, h, rate, showError, when } from "./dom.js";

/** Badges of what each pipeline does now: publishing since when, at what rate, on air. */
export function liveBadges(record) {
  const pipelines = record.pipelines || [];
  if (pipelines.length && pipelines.every((p) => p.publishing === null)) {
    // The backend cannot tell who publishes (MediaLive without CloudWatch): its channel state and alerts.
    return pipelines.map((p) => {
      const alerts = p.alerts || [];
      return h("span", { class: alerts.length ? "badge alert" : "badge", title: alerts.length ? alerts.join("; ") : undefined },
        `P${p.pipeline} ${p.encoder_state || "state unknown"}`, alerts.length ? ` · ${alerts.length} alert${alerts.length > 1 ? "s" : ""}` : "");
    });
  }
  const publishing = pipelines.filter((p) => p.publishing);
  if (!publishing.length) return [h("span", { class: "badge" }, record.started ? "waiting for an encoder" : "not live")];
  return publishing.map((p) =>
    h("span", { class: p.on_air ? "badge live" : "badge on", title: `publishing since ${when(p.publishing_since)}` },
      `${p.on_air ? "LIVE" : "standby"} P${p.pipeline}`, p.input && p.input.bits_per_second ? ` ${rate(p.input.bits_per_second)}` : ""));
}

/** Whether a started stream may be on air: an encoder publishes, or the backend cannot tell (MediaLive). */
export function mayBeOnAir(record) {
  return Boolean(record.started) && (record.pipelines || []).some((p) => p.publishing !== false);
}

/**
 * Where the picture of the pipeline viewers see comes from: the backend's published
 * `thumbnail_url`, or, for a started stream whose backend hands pictures out (MediaLive: no
 * url, publishing unknown), the API's GET /streams/{id}/thumbnail.
 */
function thumbnailOf(record) {
  const pipelines = record.pipelines || [];
  const shown = pipelines.find((p) => p.on_air && p.thumbnail_url) || pipelines.find((p) => p.thumbnail_url);
  if (shown) return { url: `${shown.thumbnail_url}?t=${Math.floor(Date.now() / 5000)}` };
  if (mayBeOnAir(record)) {
    return { path: `/streams/${encodeURIComponent(record.id)}/thumbnail?pipeline=1` };
  }
  return null;
}

/** Fetches a picture through the API into the element at most every 5 s; hides it while there is none. */
async function refreshFromAPI(picture, path) {
  const now = Date.now();
  if (picture.fetchedAt && now - picture.fetchedAt < 5000) return;
  picture.fetchedAt = now;
  try {
    const blob = await apiPicture(path);
    if (picture.objectURL) URL.revokeObjectURL(picture.objectURL);
    picture.objectURL = blob ? URL.createObjectURL(blob) : null;
    if (picture.objectURL) picture.src = picture.objectURL;
    picture.hidden = !blob;
  } catch {
    picture.hidden = true;
  }
}

/**
 * The `img` showing `record`'s picture, kept in `pictures` by id across redraws: a new element on
 * every poll would blink, so only its address changes (when the picture is refreshed).
 */
export function pictureOf(pictures, id, record, alt) {
  const source = thumbnailOf(record);
  if (!source) {
    const gone = pictures.get(id);
    if (gone && gone.objectURL) URL.revokeObjectURL(gone.objectURL);
    pictures.delete(id);
    return null;
  }
  let picture = pictures.get(id);
  if (!picture) {
    picture = h("img", { class: "thumb", alt, hidden: Boolean(source.path) });
    pictures.set(id, picture);
  }
  picture.alt = alt;
  if (source.url && picture.getAttribute("src") !== source.url) {
    picture.hidden = false;
    picture.src = source.url;
  } else if (source.path) {
    refreshFromAPI(picture, source.path);
  }
  return picture;
}

/** Lets go of the pictures fetched through the API (when a view is left). */
export function forgetPictures(pictures) {
  for (const picture of pictures.values()) if (picture.objectURL) URL.revokeObjectURL(picture.objectURL);
  pictures.clear();
}

export async function streamsView(view) {
  const filter = h("input", { id: "filter", type: "search", placeholder: "Filter by name", "aria-label": "Filter streams by name" });
  const rows = h("tbody");
  const pictures = new Map();
  let streams = [];

  const render = () => {
    const wanted = filter.value.trim().toLowerCase();
    rows.replaceChildren(...streams
      .filter((s) => !wanted || String(s.name).toLowerCase().includes(wanted))
      .sort((a, b) => String(a.name).localeCompare(String(b.name)))
      .map((s) =>
        h("tr", { "data-id": s.id },
          h("td", { class: "thumb" }, pictureOf(pictures, s.id, s, `Picture of ${s.name}`) || ""),
          h("td", { class: "name" }, h("a", { href: `#/streams/${encodeURIComponent(s.id)}` }, s.name || "(no name)"),
            h("div", { class: "muted" }, s.description || "")),
          h("td", {}, h("span", { class: "badge" }, s.state)),
          h("td", {}, liveBadges(s)))));
  };
  filter.addEventListener("input", render);

  const name = h("input", { id: "new-name", required: true, maxlength: "256" });
  const description = h("input", { id: "new-description", maxlength: "4096" });
  const segmentLength = h("input", { id: "new-segment-length", type: "number", min: "1", step: "1", value: "300" });
  const form = h("form", {
    class: "row",
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        const created = await api("POST", "/streams", {
          name: name.value, description: description.value, segment_length: Number(segmentLength.value),
        });
        location.hash = `#/streams/${encodeURIComponent(created.id)}`;
      } catch (error) {
        showError(error);
      }
    },
  },
  h("label", { for: "new-name" }, "Name"), name,
  h("label", { for: "new-description" }, "Description"), description,
  h("label", { for: "new-segment-length" }, "Segment length (s)"), segmentLength,
  h("button", { type: "submit" }, "Create stream"));

  view.append(
    h("h1", {}, "Streams"),
    h("section", {}, h("h2", {}, "New stream"), form),
    h("section", {}, h("div", { class: "row" }, filter),
      h("table", {}, h("thead", {}, h("tr", {}, h("th", { class: "thumb" }, "Picture"), h("th", {}, "Name"), h("th", {}, "State"), h("th", {}, "Live"))), rows)));

  const stop = every(5000, async () => {
    try {
      streams = await api("GET", "/streams");
      render();
    } catch (error) {
      showError(error);
    }
  });
  return () => {
    stop();
    forgetPictures(pictures);
  };
}
