// Building DOM and SVG nodes. Every string given here becomes a text node or a plain
// attribute value: recorded text never reaches the page as markup (SPEC §13). The
// attributes that could run or load something are refused outright.

const SVG_NS = "http://www.w3.org/2000/svg";
const FORBIDDEN = /^(on|href$|src$|srcset$|action$|formaction$|style$|xlink:)/i;

function build(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "on") {
      for (const [type, fn] of Object.entries(value)) node.addEventListener(type, fn);
    } else if (name === "data") {
      for (const [key, v] of Object.entries(value)) node.dataset[key] = String(v);
    } else if (FORBIDDEN.test(name)) {
      throw new Error(`refusing attribute ${name}`);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// el("div", {class: "row", on: {click}}, "text", otherNode)
export function el(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

export function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

// Replace a node's content: strings become text, null and false are left out.
export function fill(node, ...children) {
  return build(clear(node), {}, children);
}

// Position an element through the CSSOM (style attributes are outside the page's CSP).
export function place(node, styles) {
  for (const [name, value] of Object.entries(styles)) node.style.setProperty(name, value);
  return node;
}

// A link within `flowtape serve`: only a path on the same server (never a recorded URL).
const LOCAL_PATH = /^\/(?!\/)[A-Za-z0-9_\-/?=&#.%]*$/;

export function link(path, attrs, ...children) {
  if (!LOCAL_PATH.test(path)) throw new Error(`refusing link to ${JSON.stringify(path)}`);
  const a = build(document.createElement("a"), attrs, children);
  a.href = path;
  return a;
}
