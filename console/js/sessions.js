// A stream's sessions: each drawn as a timeline per pipeline (covered ranges, gaps), a clip tool
// (pick start and end on the timeline or type them, split, see asked against achieved), the clips
// playable in the page, and the session's archive deletable.
import { api } from "./api.js";
import { clock, every, h, showError, when } from "./dom.js";

/** Places an element over `range` of a timeline `total` seconds long (through CSSOM: the CSP allows no style attributes). */
function place(element, range, total) {
  element.style.left = `${(100 * range.start) / total}%`;
  element.style.width = `${Math.max(0.3, (100 * (range.end - range.start)) / total)}%`;
  return element;
}

/** A range as a block on the timeline. */
function block(kind, range, total, label) {
  return place(h("div", { class: kind, title: label }), range, total);
}

function rangeText(range) {
  return range ? `${clock(range.start)} – ${clock(range.end)} (${(range.end - range.start).toFixed(2)} s)` : "—";
}

function clipView(clip) {
  const player = h("video", { controls: true, preload: "metadata", src: clip.url || "", "aria-label": `Clip ${clip.index}` });
  return h("div", { class: "clip", "data-index": clip.index },
    h("div", {}, h("strong", {}, clip.index.split("/").pop())),
    h("div", {}, "Asked: ", rangeText(clip.asked), " · Achieved: ", h("span", { class: "achieved" }, rangeText(clip.achieved)),
      clip.exact ? " (exact)" : " (segment boundaries)"),
    clip.gaps && clip.gaps.length ? h("div", { class: "muted" }, `Gaps skipped: ${clip.gaps.map(rangeText).join(", ")}`) : "",
    clip.url ? player : h("p", { class: "muted" }, "This archive is not served over HTTP."));
}

function sessionView(streamId, session, picks, refresh) {
  const total = Math.max(session.archive.seconds, 1);
  const pick = picks.get(session.session_id) || { start: "", end: "", answer: "" };
  picks.set(session.session_id, pick);
  const startInput = h("input", { type: "number", min: "0", step: "0.1", value: String(pick.start), id: `start-${session.session_id}` });
  const endInput = h("input", { type: "number", min: "0", step: "0.1", value: String(pick.end), id: `end-${session.session_id}` });
  const exact = h("input", { type: "checkbox", id: `exact-${session.session_id}` });
  const overlay = h("div", { class: "pick", hidden: true });
  const showPick = () => {
    const start = Number(startInput.value);
    const end = Number(endInput.value);
    overlay.hidden = !(startInput.value !== "" && endInput.value !== "" && end > start);
    if (!overlay.hidden) place(overlay, { start, end }, total);
  };
  startInput.addEventListener("input", () => { pick.start = startInput.value; showPick(); });
  endInput.addEventListener("input", () => { pick.end = endInput.value; showPick(); });

  const lanes = [1, 2].map((number) => {
    const part = session.pipelines.find((p) => p.pipeline === number);
    return h("div", { class: `lane p${number}` }, (part ? part.covered : []).map((r) => block("covered", r, total, `pipeline ${number}: ${rangeText(r)}`)));
  });
  const timeline = h("div", {
    class: "timeline", role: "img",
    "aria-label": `Timeline of ${clock(session.archive.seconds)}: pipeline 1 and 2 covered ranges, ${session.gaps.length} gap(s)`,
  }, lanes, session.gaps.map((g) => block("gap", g, total, `gap ${rangeText(g)}`)), overlay);
  // Clicks pick the clip: the first one its start, the next its end.
  let picking = "start";
  timeline.addEventListener("click", (event) => {
    const box = timeline.getBoundingClientRect();
    const seconds = Math.round((10 * total * (event.clientX - box.left)) / box.width) / 10;
    (picking === "start" ? startInput : endInput).value = String(seconds);
    pick[picking] = String(seconds);
    picking = picking === "start" ? "end" : "start";
    showPick();
  });

  const answer = h("p", { class: "muted answer", "aria-live": "polite" }, pick.answer);
  const split = h("form", {
    class: "row",
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        const result = await api("POST", `/streams/${encodeURIComponent(streamId)}/split`, {
          session_id: session.session_id, exact: exact.checked,
          timestamp_list: [{ start: Number(startInput.value), end: Number(endInput.value) }],
        });
        const clip = result.clips[0];
        // Kept with the picks: the refresh below draws the session again.
        pick.answer = `Asked ${rangeText(clip.asked)}, achieved ${rangeText(clip.achieved)}.`;
        answer.textContent = pick.answer;
        await refresh();
      } catch (error) {
        showError(error);
      }
    },
  },
  h("label", { for: startInput.id }, "Clip start (s)"), startInput,
  h("label", { for: endInput.id }, "Clip end (s)"), endInput,
  h("label", { for: exact.id }, exact, " exact edges"),
  h("button", { type: "submit" }, "Make clip"));

  const remove = h("button", {
    type: "button", class: "danger", disabled: session.live,
    onclick: async () => {
      if (!window.confirm("Delete this session's archive and clips?")) return;
      try {
        await api("DELETE", `/streams/${encodeURIComponent(streamId)}/sessions/${session.session_id}`);
        await refresh();
      } catch (error) {
        showError(error);
      }
    },
  }, "Delete session archive");
  showPick();
  return h("article", { class: "session", "data-session": session.session_id },
    h("h3", {}, `${when(session.started_at)}${session.live ? " · live" : ""}`),
    h("p", { class: "duration" }, `Duration ${session.duration_seconds === null ? "unknown" : clock(session.duration_seconds)}`,
      ` · archived ${clock(session.archive.seconds)}`, session.gaps.length ? ` · ${session.gaps.length} gap(s)` : "",
      ...session.pipelines.map((p) => ` · P${p.pipeline}: ${p.segments} segments`)),
    timeline, split, answer,
    h("div", { class: "clips" }, session.clips.map(clipView)),
    remove);
}

export function sessionsSection(container, streamId) {
  const picks = new Map();
  let shown = "";
  const refresh = async () => {
    const { sessions } = await api("GET", `/streams/${encodeURIComponent(streamId)}/sessions`);
    // Drawn again only when something changed, so players and half-typed clips are left alone.
    const signature = JSON.stringify(sessions.map((s) => [s.session_id, s.live, s.stopped_at, s.archive.seconds, s.clips.map((c) => c.index)]));
    if (signature === shown) return;
    shown = signature;
    container.replaceChildren(...(sessions.length
      ? sessions.slice().reverse().map((s) => sessionView(streamId, s, picks, refresh))
      : [h("p", { class: "muted" }, "No sessions yet.")]));
  };
  return every(5000, async () => {
    try {
      await refresh();
    } catch (error) {
      if (error.status !== 404) showError(error);
    }
  });
}
