// Drag the keypoint circles of the editor (static/keypoint_editor.html); on drop the joint's
// new [x, y] (photo pixels) goes into props.value, the keypoints JSON, which re-renders the
// template and fires the component's change event in Python. Nothing is fetched.
let drag = null;
// The pointer in photo pixels (the SVG's viewBox), plus the grab offset, kept on the photo.
const at = (g, e, dx = 0, dy = 0) => {
  const svg = g.ownerSVGElement, box = svg.viewBox.baseVal;
  const q = new DOMPoint(e.clientX, e.clientY).matrixTransform(svg.getScreenCTM().inverse());
  return [Math.min(Math.max(q.x + dx, 0), box.width), Math.min(Math.max(q.y + dy, 0), box.height)];
};
const move = (name, x, y) => {
  element.querySelector(`g[data-joint="${name}"]`).setAttribute("transform", `translate(${x} ${y})`);
  for (const [end, n] of [["a", "1"], ["b", "2"]]) {
    element.querySelectorAll(`line[data-${end}="${name}"]`).forEach((line) => {
      line.setAttribute(`x${n}`, x);
      line.setAttribute(`y${n}`, y);
    });
  }
};
element.addEventListener("pointerdown", (e) => {
  const g = e.target.closest("g[data-joint]");
  if (!g || e.button > 0) return;
  e.preventDefault();
  g.setPointerCapture(e.pointerId);
  g.classList.add("kp-dragging");
  const joint = g.transform.baseVal.consolidate().matrix, [x, y] = at(g, e);
  drag = { g, xy: null, dx: joint.e - x, dy: joint.f - y };
});
element.addEventListener("pointermove", (e) => {
  if (!drag) return;
  drag.xy = at(drag.g, e, drag.dx, drag.dy);
  move(drag.g.dataset.joint, ...drag.xy);
});
const drop = () => {
  if (!drag) return;
  const { g, xy } = drag;
  drag = null;
  g.classList.remove("kp-dragging");
  if (!xy) return; // a click without a move changes nothing
  let points = {};
  try { points = JSON.parse(props.value || "{}"); } catch (err) { points = {}; }
  points[g.dataset.joint] = xy.map((v) => Math.round(v * 10) / 10);
  props.value = JSON.stringify(points);
};
element.addEventListener("pointerup", drop);
element.addEventListener("pointercancel", drop);
