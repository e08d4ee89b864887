// A list that draws only the rows on screen, however many there are (1M events under
// `serve`): its own scroll position in rows and its own scroll bar, so no element is ever
// a million rows tall. `render(i)` makes row i; `draw()` again when rows change.

import { el, clear, place } from "./dom.js";

export class VirtualList {
  constructor(root, { rowHeight = 20, render }) {
    this.root = root;
    this.rowHeight = rowHeight;
    this.render = render;
    this.count = 0;
    this.top = 0;
    this.rows = el("div", { class: "vl-rows" });
    this.thumb = el("div", { class: "vl-thumb" });
    this.bar = el("div", { class: "vl-bar" }, this.thumb);
    root.classList.add("vlist");
    root.append(this.rows, this.bar);
    root.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const rows = Math.max(1, Math.round(Math.abs(ev.deltaY) / this.rowHeight));
      this.scrollTo(this.top + Math.sign(ev.deltaY) * rows);
    }, { passive: false });
    this.bar.addEventListener("pointerdown", (ev) => {
      this.bar.setPointerCapture(ev.pointerId);
      this.dragTo(ev);
    });
    this.bar.addEventListener("pointermove", (ev) => {
      if (this.bar.hasPointerCapture(ev.pointerId)) this.dragTo(ev);
    });
    new ResizeObserver(() => this.draw()).observe(root);
  }

  visible() {
    return Math.max(1, Math.floor(this.root.clientHeight / this.rowHeight));
  }

  setCount(n) {
    this.count = n;
    this.scrollTo(this.top);
  }

  scrollTo(top) {
    this.top = Math.max(0, Math.min(top, this.count - this.visible()));
    this.draw();
  }

  // Scroll just enough to show row i, keeping a row of context where there is one.
  reveal(i) {
    const vis = this.visible();
    if (i < this.top + 1) this.scrollTo(i - Math.min(2, Math.floor(vis / 4)));
    else if (i >= this.top + vis - 1) this.scrollTo(i - vis + 1 + Math.min(2, Math.floor(vis / 4)));
  }

  dragTo(ev) {
    const box = this.bar.getBoundingClientRect();
    const f = Math.min(1, Math.max(0, (ev.clientY - box.top) / Math.max(1, box.height)));
    this.scrollTo(Math.round(f * (this.count - this.visible())));
  }

  draw() {
    clear(this.rows);
    const end = Math.min(this.count, this.top + this.visible() + 1);
    for (let i = this.top; i < end; i++) this.rows.append(this.render(i));
    const vis = this.visible();
    const shown = this.count ? Math.min(1, vis / this.count) : 1;
    const at = this.count > vis ? this.top / (this.count - vis) : 0;
    const size = Math.max(shown * 100, 4);  // percent of the bar
    place(this.thumb, { height: `${size}%`, top: `${at * (100 - size)}%` });
    this.bar.classList.toggle("hidden", this.count <= vis);
  }
}
