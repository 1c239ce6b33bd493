// Building the page: elements from data, text always as text (never parsed as HTML).

/**
 * An element: `attributes` are attributes, `on<event>` listeners, or properties for non-string values;
 * `children` are nodes or values shown as text.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      element.className = value;
    } else if (typeof value !== "string" && name in element) {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Shows an error in words (the API's message); `null` hides it. */
export function showError(error) {
  const box = document.getElementById("error");
  if (!error) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  box.textContent = error.message || String(error);
  box.hidden = false;
}

/** Epoch seconds (number or text) as local date and time. */
export function when(epochSeconds) {
  if (epochSeconds === null || epochSeconds === undefined || epochSeconds === "") return "—";
  return new Date(Number(epochSeconds) * 1000).toLocaleString();
}

/** Seconds as m:ss.s. */
export function clock(seconds) {
  const minutes = Math.floor(seconds / 60);
  const rest = (seconds - minutes * 60).toFixed(1).padStart(4, "0");
  return `${minutes}:${rest}`;
}

/** Bits per second in words. */
export function rate(bitsPerSecond) {
  if (!bitsPerSecond) return "";
  return bitsPerSecond >= 1e6 ? `${(bitsPerSecond / 1e6).toFixed(1)} Mb/s` : `${Math.round(bitsPerSecond / 1e3)} kb/s`;
}

/** Runs `step` now and every `milliseconds` until the returned function is called. */
export function every(milliseconds, step) {
  let stopped = false;
  let timer = null;
  const run = async () => {
    if (stopped) return;
    try {
      await step();
    } finally {
      if (!stopped) timer = setTimeout(run, milliseconds);
    }
  };
  run();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
