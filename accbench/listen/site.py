"""The study's web page: one self-contained ``index.html`` (inline style and script, no external request).

The page shows the instructions and a consent box, then one pairwise trial at a time: two players (A and
B, each replayable; both must be heard to the end), the preference question, optional coherence and
quality ratings (1-5) and the progress. Progress and answers are kept in the browser's ``localStorage``
under the study's id, so a reload resumes where the participant stopped. At the end the participant
downloads the answers (``answers-<participant>.json``, read by ``listen analyze``). When the page is
served over HTTP (``listen serve``) each answer is also posted to ``api/answer``; answers not yet
acknowledged are sent again on load, after each answer and every few seconds (a ``409`` reply means the
server already holds that answer).

The page never learns which system plays on which side: it gets only the trial ids and clip paths.
"""

from __future__ import annotations

import html
import json
import os
from typing import Any

from accbench.atomic import atomic_write_text

__all__ = ["ANSWERS_FORMAT", "page_data", "render_page", "write_site"]

#: ``format`` of the answers file the page downloads.
ANSWERS_FORMAT = "accbench-listen-answers"

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
section[hidden] { display: none; }
.players { display: flex; gap: 1.5rem; margin: 1rem 0; }
.side { flex: 1; border: 1px solid #bbb; border-radius: 8px; padding: 0.8rem; text-align: center; }
.side h2 { margin: 0 0 0.5rem; }
.side.playing { border-color: #0072b2; background: #eef6fb; }
.heard { display: block; color: #555; font-size: 0.9rem; margin-top: 0.4rem; min-height: 1.2em; }
button { font-size: 1rem; padding: 0.4rem 1rem; }
fieldset { margin: 1rem 0; border: 1px solid #ccc; border-radius: 6px; }
fieldset label { margin-right: 1.2rem; }
table.ratings td { padding: 0.2rem 0.6rem; }
progress { width: 100%; }
#hint, #sync { color: #555; }
#error { color: #b00020; }
"""

_BODY = """
<main id="app" data-ready="0">
<section id="consent" hidden>
<h1>__TITLE__</h1>
<p>You will hear __TOTAL__ pairs of short excerpts. In each pair the same melody is accompanied by two
different systems, <b>A</b> and <b>B</b>. Listen to both (as often as you like), then choose the one whose
accompaniment fits the melody better: in time, in harmony, as music. Ratings are optional.
Please use headphones in a quiet place and keep the volume constant.</p>
<p>Your answers are stored in this browser and, at the end, saved in a file you download (and, when this
page is served by the study's organiser, sent to their server). No personal data is asked for; you may stop
at any time, and a reload continues where you stopped.</p>
<p><label><input type="checkbox" id="agree">
I agree to take part and for my answers to be used for research.</label></p>
<p><label>Participant id (optional):
<input id="pid" maxlength="64" placeholder="leave empty for a random id"></label></p>
<p><button id="start" disabled>Start</button> <span id="error"></span></p>
</section>
<section id="trial" hidden>
<p id="progress-text">Trial <span id="number"></span> of __TOTAL__</p>
<progress id="progress" max="__TOTAL__" value="0"></progress>
<div class="players">
<div class="side" id="side-a"><h2>A</h2><button id="play-a">Play A</button>
<span class="heard" id="heard-a"></span></div>
<div class="side" id="side-b"><h2>B</h2><button id="play-b">Play B</button>
<span class="heard" id="heard-b"></span></div>
</div>
<audio id="audio-a" preload="auto"></audio><audio id="audio-b" preload="auto"></audio>
<fieldset id="preference"><legend>Which accompaniment fits the melody better?</legend>
<label><input type="radio" name="choice" value="A" id="choice-a"> A</label>
<label><input type="radio" name="choice" value="B" id="choice-b"> B</label>
</fieldset>
<fieldset id="ratings"><legend>Optional ratings, 1 (poor) to 5 (excellent)</legend>
<table class="ratings"><tr><td></td><td>A</td><td>B</td></tr>
<tr><td>Coherence: fits the melody</td><td><select id="coherence-a"></select></td>
<td><select id="coherence-b"></select></td></tr>
<tr><td>Sound quality</td><td><select id="quality-a"></select></td><td><select id="quality-b"></select></td></tr>
</table></fieldset>
<p><button id="next" disabled>Next</button> <span id="hint"></span></p>
</section>
<section id="done" hidden>
<h1>Thank you</h1>
<p>You answered all __TOTAL__ trials. Please download your answers and send the file to the organiser.</p>
<p><button id="download">Download answers</button></p>
<p id="sync"></p>
</section>
</main>
"""

_SCRIPT = r"""
(function () {
  "use strict";
  var study = JSON.parse(document.getElementById("study-data").textContent);
  var trials = study.trials, total = trials.length;
  var served = location.protocol === "http:" || location.protocol === "https:";
  var key = "accbench-listen/" + study.study_id;
  var state = load();
  var $ = function (id) { return document.getElementById(id); };
  var heard = {a: false, b: false}, plays = {a: 0, b: 0}, shownAt = 0;

  function load() {
    try { var s = JSON.parse(localStorage.getItem(key)); if (s && s.answers) { return s; } } catch (e) {}
    return {participant: "", consent: false, index: 0, answers: [], sent: {}};
  }
  function save() { localStorage.setItem(key, JSON.stringify(state)); }
  function randomId() {
    var bytes = new Uint8Array(6); crypto.getRandomValues(bytes);
    return "p-" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function show(name) {
    ["consent", "trial", "done"].forEach(function (s) { $(s).hidden = s !== name; });
  }
  function fillRatings() {
    ["coherence-a", "coherence-b", "quality-a", "quality-b"].forEach(function (id) {
      var select = $(id);
      select.innerHTML = "";
      ["", "1", "2", "3", "4", "5"].forEach(function (v) {
        var o = document.createElement("option"); o.value = v; o.textContent = v || "-"; select.appendChild(o);
      });
    });
  }
  function rating(id) { var v = $(id).value; return v ? parseInt(v, 10) : null; }

  function stopAll() {
    ["a", "b"].forEach(function (s) {
      $("audio-" + s).pause();
      $("side-" + s).classList.remove("playing");
    });
  }
  function play(side) {
    var audio = $("audio-" + side);
    stopAll();
    audio.currentTime = 0;
    plays[side] += 1;
    $("side-" + side).classList.add("playing");
    var started = audio.play();
    if (started && started.catch) {
      started.catch(function (e) { $("hint").textContent = "cannot play: " + e.message; });
    }
  }
  function ended(side) {
    $("side-" + side).classList.remove("playing");
    heard[side] = true;
    $("heard-" + side).textContent = "heard";
    update();
  }
  function choice() { var c = document.querySelector("input[name=choice]:checked"); return c ? c.value : ""; }
  function update() {
    var missing = [];
    if (!heard.a) { missing.push("listen to A"); }
    if (!heard.b) { missing.push("listen to B"); }
    if (!choice()) { missing.push("choose A or B"); }
    $("next").disabled = missing.length > 0;
    $("hint").textContent = missing.length ? "To continue: " + missing.join(", ") + "." : "";
  }

  function showTrial() {
    if (state.index >= total) { return finish(); }
    var t = trials[state.index];
    show("trial");
    stopAll();
    heard = {a: false, b: false}; plays = {a: 0, b: 0};
    $("audio-a").src = t.a; $("audio-b").src = t.b;
    $("heard-a").textContent = ""; $("heard-b").textContent = "";
    document.querySelectorAll("input[name=choice]").forEach(function (r) { r.checked = false; });
    fillRatings();
    $("ratings").hidden = !study.ratings;
    $("number").textContent = String(state.index + 1);
    $("progress").value = state.index;
    shownAt = Date.now();
    update();
  }
  function answer() {
    var t = trials[state.index];
    state.answers.push({
      study: study.study_id, participant: state.participant, trial: t.id, choice: choice(),
      coherence_a: rating("coherence-a"), coherence_b: rating("coherence-b"),
      quality_a: rating("quality-a"), quality_b: rating("quality-b"),
      plays_a: plays.a, plays_b: plays.b, seconds: (Date.now() - shownAt) / 1000,
      answered_at: new Date().toISOString()
    });
    state.index += 1;
    save();
    sendPending();
    showTrial();
  }
  function finish() {
    show("done");
    stopAll();
    $("progress").value = total;
    syncText();
  }
  function syncText() {
    if (!served) { $("sync").textContent = ""; return; }
    var left = state.answers.filter(function (a) { return !state.sent[a.trial]; }).length;
    $("sync").textContent = left ? left + " answer(s) not yet received by the server; retrying." :
      "All " + state.answers.length + " answer(s) received by the server.";
    document.body.dataset.unsent = String(left);
  }
  var sending = false;
  function sendPending() {
    if (!served || sending) { return; }
    var todo = state.answers.filter(function (a) { return !state.sent[a.trial]; });
    syncText();
    if (!todo.length) { return; }
    sending = true;
    var next = todo[0];
    fetch("api/answer", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(next)})
      .then(function (r) {
        if (r.status === 201 || r.status === 409) { state.sent[next.trial] = true; save(); return null; }
        return r.text().then(function (t) {
          $("sync").textContent = "server: " + r.status + " " + t;
          throw new Error(t);
        });
      })
      .then(function () { sending = false; sendPending(); },
            function () { sending = false; syncText(); });
  }
  function download() {
    var body = JSON.stringify({format: "__FORMAT__", version: 1, study: study.study_id,
      participant: state.participant, answers: state.answers}, null, 1);
    var a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([body], {type: "application/json"}));
    a.download = "answers-" + state.participant + ".json";
    document.body.appendChild(a); a.click(); a.remove();
  }

  $("agree").addEventListener("change", function () { $("start").disabled = !$("agree").checked; });
  $("start").addEventListener("click", function () {
    var pid = $("pid").value.trim() || randomId();
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(pid)) { $("error").textContent = "Use letters, digits, - and _ only."; return; }
    state.participant = pid; state.consent = true; state.index = 0; state.answers = []; state.sent = {};
    save(); showTrial();
  });
  ["a", "b"].forEach(function (s) {
    $("play-" + s).addEventListener("click", function () { play(s); });
    $("audio-" + s).addEventListener("ended", function () { ended(s); });
  });
  document.querySelectorAll("input[name=choice]").forEach(function (r) { r.addEventListener("change", update); });
  $("next").addEventListener("click", answer);
  $("download").addEventListener("click", download);
  if (state.consent) { showTrial(); } else { show("consent"); }
  sendPending();
  if (served) { setInterval(sendPending, 3000); }
  $("app").dataset.ready = "1";
})();
"""


def page_data(design: dict[str, Any]) -> dict[str, Any]:
    """What the page needs from ``study.json``: the study id, title, ratings flag and per trial its clips only."""
    return {
        "study_id": design["study_id"],
        "title": design["title"],
        "ratings": bool(design["ratings"]),
        "trials": [{"id": t["id"], "a": t["clip_a"], "b": t["clip_b"]} for t in design["trials"]],
    }


def render_page(design: dict[str, Any]) -> str:
    """The whole ``index.html`` of a study design (the content of ``study.json``)."""
    data = json.dumps(page_data(design), sort_keys=True).replace("<", "\\u003c")
    title = html.escape(str(design["title"]))
    body = _BODY.replace("__TITLE__", title).replace("__TOTAL__", str(len(design["trials"])))
    script = _SCRIPT.replace("__FORMAT__", ANSWERS_FORMAT)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'; media-src 'self' blob:; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'\">"
        f"<title>{title}</title><style>{_STYLE}</style></head><body>{body}"
        f'<script type="application/json" id="study-data">{data}</script>'
        f"<script>{script}</script></body></html>\n"
    )


def write_site(path: str | os.PathLike, design: dict[str, Any]) -> None:
    """Write the study page atomically."""
    atomic_write_text(path, render_page(design))
