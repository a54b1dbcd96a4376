// The live view of one streaming reply (jupyter_llm/display/live.py sends what changes).
// Every message holds a deflate-compressed JSON list of operations, compressed as one
// stream across the reply: each message is inflated in order, then applied to every view.
// The model keeps the list, so a view opened late shows everything.

const STYLE = `
.jllm-live { display: flex; flex-direction: column; }
.jllm-live details.jllm-live-reasoning > summary { cursor: pointer; color: var(--jp-ui-font-color2, grey);
  font-size: 0.85em; user-select: none; }
.jllm-live details.jllm-live-reasoning > .jllm-live-text { color: var(--jp-ui-font-color2, #555);
  border-left: 2px solid var(--jp-border-color2, #ddd); padding-left: 0.75em; margin: 0.25em 0 0.5em 0.2em; }
.jllm-live .jllm-live-text table { margin-left: 0; margin-right: 0; }
.jllm-live .jllm-raw { white-space: pre-wrap; }
.jllm-live .jllm-live-notes { color: var(--jp-ui-font-color2, grey); font-size: 0.85em; }
`;

const STORES = new Map();

function addStyle() {
  if (document.getElementById("jllm-live-style")) return;
  const style = document.createElement("style");
  style.id = "jllm-live-style";
  style.textContent = STYLE;
  document.head.appendChild(style);
}

function column(parent) {
  const text = document.createElement("div");
  text.className = "jp-RenderedHTMLCommon jp-RenderedMarkdown jllm-live-text";
  const tail = document.createElement("div");
  text.appendChild(tail);
  parent.appendChild(text);
  return { tail, point: null, partial: null };
}

function build(el) {
  el.classList.add("jllm-live");
  const details = document.createElement("details");
  details.className = "jllm-live-reasoning";
  details.hidden = true;
  const summary = document.createElement("summary");
  details.appendChild(summary);
  el.appendChild(details);
  const view = { details, summary, r: column(details), a: column(el) };
  for (const name of ["tools", "notes"]) {
    view[name] = document.createElement("div");
    view[name].className = `jllm-live-${name}`;
    el.appendChild(view[name]);
  }
  return view;
}

function last(root, selector) {
  const found = root.querySelectorAll(selector);
  return found.length ? found[found.length - 1] : root;
}

function seal(col, html) {
  if (col.partial) col.partial.remove();
  if (html !== null && html !== undefined) col.tail.innerHTML = html;
  while (col.tail.firstChild) col.tail.before(col.tail.firstChild);
  col.point = col.partial = null;
}

function clear(col) {
  while (col.tail.previousSibling) col.tail.previousSibling.remove();
  col.tail.innerHTML = "";
  col.point = col.partial = null;
}

function apply(view, op) {
  const [target, code, a, b] = op;
  if (target === "h") {
    view.details.hidden = false;
    if (code !== null) view.summary.textContent = code;
    if (view.details.open !== a) view.details.open = a;
    return;
  }
  if (target === "x") {
    view[code].innerHTML = a;
    return;
  }
  if (target === "z") {
    clear(view.r);
    clear(view.a);
    return;
  }
  const col = view[target];
  if (target === "r") view.details.hidden = false;
  if (code === "b") {
    col.tail.insertAdjacentHTML("beforebegin", a);
  } else if (code === "t") {
    col.tail.innerHTML = a;
    col.point = col.partial = null;
  } else if (code === "g") {
    col.tail.innerHTML = a;
    col.point = last(col.tail, b);
    col.partial = null;
  } else if (code === "+") {
    if (col.partial) col.partial.insertAdjacentHTML("beforebegin", a);
    else (col.point || col.tail).insertAdjacentHTML("beforeend", a);
  } else if (code === "p") {
    if (!col.partial) {
      col.partial = document.createElement("span");
      (col.point || col.tail).appendChild(col.partial);
    }
    col.partial.innerHTML = a;
  } else if (code === "s") {
    seal(col, a);
  }
}

async function inflate(store, msg, buffers) {
  const data = buffers[0];
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  store.writer.write(bytes).catch(() => {});
  const parts = [];
  let got = 0;
  while (got < msg.z) {
    const { value, done } = await store.reader.read();
    if (done) break;
    parts.push(value);
    got += value.length;
  }
  const all = new Uint8Array(got);
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return JSON.parse(store.decoder.decode(all));
}

function initialize({ model }) {
  const stream = new DecompressionStream("deflate");
  const store = {
    log: [],
    views: new Set(),
    writer: stream.writable.getWriter(),
    reader: stream.readable.getReader(),
    decoder: new TextDecoder(),
    chain: Promise.resolve(),
  };
  const key = model.get("key");
  STORES.set(key, store);
  model.on("msg:custom", (msg, buffers) => {
    store.chain = store.chain
      .then(() => inflate(store, msg, buffers))
      .then((ops) => {
        for (const op of ops) {
          store.log.push(op);
          for (const view of store.views) apply(view, op);
        }
      })
      .catch((error) => console.error("[jupyter-llm] live view:", error));
  });
  return () => {
    STORES.delete(key);
    store.writer.close().catch(() => {});
  };
}

function render({ model, el }) {
  addStyle();
  const store = STORES.get(model.get("key"));
  const view = build(el);
  if (!store) return;
  for (const op of store.log) apply(view, op);
  store.views.add(view);
  return () => store.views.delete(view);
}

export default { initialize, render };
