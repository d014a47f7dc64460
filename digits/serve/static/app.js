// Draw a digit: the page of `python -m digits.serve`. Plain JS, no libraries, nothing from the network but
// its own server's /api/*. document.body.dataset.state says idle, busy, answered or error (the browser tests wait
// on it).
"use strict";

const PEN = 18;  // px on the 280 px pad: MNIST's strokes are about 2 of its 28 pixels wide
const $ = id => document.getElementById(id);
const pad = $("pad"), ink = pad.getContext("2d");
const strokes = [];  // each stroke a list of [x, y] in the pad's own pixels; undo pops one
let asked = 0;  // the latest request: an older answer arriving late is dropped

function paint() {  // a changed pad: the boxes of the last answer no longer fit it
  $("pad-boxes").replaceChildren();
  ink.fillStyle = "#fff";
  ink.fillRect(0, 0, pad.width, pad.height);
  Object.assign(ink, {strokeStyle: "#000", fillStyle: "#000", lineWidth: PEN, lineCap: "round", lineJoin: "round"});
  for (const points of strokes) {
    ink.beginPath();
    ink.moveTo(...points[0]);
    for (const p of points.slice(1)) ink.lineTo(...p);
    if (points.length === 1) ink.arc(points[0][0], points[0][1], PEN / 2, 0, 2 * Math.PI);  // a dot
    points.length === 1 ? ink.fill() : ink.stroke();
  }
}

function at(event) {  // the pointer in the pad's pixels, whatever size CSS gives it
  const r = pad.getBoundingClientRect();
  return [(event.clientX - r.left) * pad.width / r.width, (event.clientY - r.top) * pad.height / r.height];
}

pad.addEventListener("pointerdown", e => {
  e.preventDefault();
  pad.setPointerCapture(e.pointerId);
  strokes.push([at(e)]);
  paint();
});
pad.addEventListener("pointermove", e => {
  if (!pad.hasPointerCapture(e.pointerId)) return;
  strokes[strokes.length - 1].push(at(e));
  paint();
});
pad.addEventListener("pointerup", () => classifyPad());
$("undo").addEventListener("click", () => { strokes.pop(); paint(); classifyPad(); });
$("clear").addEventListener("click", () => { strokes.length = 0; paint(); classifyPad(); });

function classifyPad() {
  showPhoto(null);
  if (!strokes.length) return reset("Draw a digit with the mouse, a pen or a finger.");
  pad.toBlob(blob => classify(blob, "drawing.png", "pad"), "image/png");
}

function classifyFile(file) {
  if (!file) return;
  strokes.length = 0;
  paint();
  showPhoto(file);
  classify(file, file.name, "photo");
}

$("file").addEventListener("change", e => classifyFile(e.target.files[0]));
for (const kind of ["dragenter", "dragover"]) {
  document.addEventListener(kind, e => { e.preventDefault(); $("drop").classList.add("over"); });
}
document.addEventListener("dragleave", () => $("drop").classList.remove("over"));
document.addEventListener("drop", e => {
  e.preventDefault();
  $("drop").classList.remove("over");
  classifyFile(e.dataTransfer.files[0]);
});
$("model").addEventListener("change", () => strokes.length ? classifyPad() : classifyFile($("file").files[0]));

async function classify(blob, name, where) {
  const id = ++asked;
  const form = new FormData();
  form.append("image", blob, name);
  setState("busy", "Reading…");
  let answer;
  try {
    const response = await fetch(`/api/predict?model=${encodeURIComponent($("model").value)}`,
                                 {method: "POST", body: form});
    answer = await response.json();
    if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  } catch (err) {
    if (id === asked) fail(err.message);
    return;
  }
  if (id === asked) show(answer, where);
}

function setState(state, text) {
  document.body.dataset.state = state;
  $("status").textContent = text;
  $("status").classList.toggle("error", state === "error");
}

function reset(text) {
  asked++;
  setState("idle", text);
  $("answer").textContent = $("probability").textContent = "";
  $("bars").replaceChildren();
  $("seen-figure").hidden = true;
  drawBoxes($("pad-boxes"), [], 1, 1);
}

function fail(message) {
  reset("");
  setState("error", message);
}

function show(answer, where) {
  setState("answered", `${answer.file}: answered by the ${modelName($("model").value)} model`);
  $("answer").textContent = answer.class;
  // "not a digit": the detector refused all the ink; say what the model alone would have read, in small type.
  const refused = answer.not_a_digit;
  $("probability").textContent = refused
    ? `(detector ${Number(refused.score).toFixed(3)}; the model alone: ${refused.guess}, ` +
      `probability ${Number(refused.guess_probability).toFixed(3)})`
    : `probability ${Number(answer.probability).toFixed(3)}`;
  $("bars").replaceChildren(...(answer.top || []).map((top, i, all) => barChart(top, all.length > 1 ? i : null)));
  $("seen-figure").hidden = !answer.seen;
  if (answer.seen) $("seen").src = `data:image/png;base64,${answer.seen}`;
  const digits = Array.isArray(answer.digits) ? answer.digits.filter(d => d && d.box) : [];
  // Boxes are in the pixels of the image as the server read it (a large photo shrunk): `size` gives its width
  // and height, so they are drawn in proportion whatever size the picture is shown at.
  const [w, h] = Array.isArray(answer.size) ? answer.size : where === "pad" ? [pad.width, pad.height]
    : [$("photo").naturalWidth, $("photo").naturalHeight];
  if (where === "pad") drawBoxes($("pad-boxes"), digits, w, h);
  else if ($("photo").complete) drawBoxes($("photo-boxes"), digits, w, h);
  else $("photo").addEventListener("load", () => show(answer, where), {once: true});
}

function barChart(top, index) {  // one digit's most probable classes as horizontal bars
  const chart = document.createElement("div");
  chart.className = "digit-bars";
  if (index !== null) chart.append(Object.assign(document.createElement("div"), {textContent: `digit ${index + 1}`}));
  for (const {class: name, probability} of top) {
    const row = document.createElement("div"), track = document.createElement("div");
    const bar = document.createElement("div");
    row.className = "bar-row";
    track.className = "bar-track";
    bar.className = "bar";
    bar.style.width = `${Math.max(0.5, probability * 100)}%`;
    track.append(bar);
    row.append(Object.assign(document.createElement("span"), {textContent: name}), track,
               Object.assign(document.createElement("span"), {textContent: probability.toFixed(3)}));
    chart.append(row);
  }
  return chart;
}

// A digit's box as the API gives it, [x, y, width, height], as [left, top, right, bottom]; null if it is not one.
function boxOf(b) {
  const n = v => typeof v === "number" && isFinite(v);
  if (Array.isArray(b) && b.length === 4 && b.every(n)) return [b[0], b[1], b[0] + b[2], b[1] + b[3]];
  return null;
}

function drawBoxes(layer, digits, width, height) {  // in percent of the image, so CSS scaling keeps them in place
  layer.replaceChildren();
  for (const digit of digits) {
    const box = boxOf(digit.box);
    if (!box || !width || !height) continue;
    const div = document.createElement("div");
    div.className = "box";
    Object.assign(div.style, {left: `${100 * box[0] / width}%`, top: `${100 * box[1] / height}%`,
                              width: `${100 * (box[2] - box[0]) / width}%`, height: `${100 * (box[3] - box[1]) / height}%`});
    div.append(Object.assign(document.createElement("span"), {textContent: digit.class ?? ""}));
    layer.append(div);
  }
}

function showPhoto(file) {
  const figure = $("photo-figure"), img = $("photo");
  $("photo-boxes").replaceChildren();
  if (img.src) URL.revokeObjectURL(img.src);
  figure.hidden = !file;
  if (!file) return img.removeAttribute("src");
  img.src = URL.createObjectURL(file);
  $("photo-caption").textContent = file.name;
}

// The menu's names, each in the same form; a model this page does not know keeps its own name.
const MODEL_NAMES = {cnn: "CNN (convolutional)", dense: "Dense (fully connected)"};
const modelName = name => MODEL_NAMES[name] || name;

async function loadModels() {
  try {
    const health = await (await fetch("/api/health")).json();
    $("model").replaceChildren(...Object.keys(health.models).map(
      name => Object.assign(document.createElement("option"), {value: name, textContent: modelName(name)})));
  } catch (err) {
    fail(`the server does not answer (${err.message})`);
  }
}

paint();
loadModels();
