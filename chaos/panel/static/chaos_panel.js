// The chaos panel: draws /chaos/state once a second and posts switches to the JSON routes.
"use strict";

const REFRESH_MS = 1000;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

function showError(message) {
  const box = document.getElementById("error");
  box.textContent = message || "";
  box.hidden = !message;
}

async function call(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || `${response.status}`);
  return data;
}

function withUnit(name, unit) {
  return unit ? `${name} (${unit})` : name;
}

// Fault-log params with their units: {"latency": 200, "duration_s": 5} -> "latency 200 ms, duration 5 s".
function paramsText(state, fault, params) {
  const units = (state.faults[fault] || { units: {} }).units;
  return Object.entries(params || {}).map(([k, v]) =>
    `${k === "duration_s" ? "for" : k} ${v} ${units[k] || ""}`.trim()).join(", ");
}

function isOn(state, link, fault) {
  return state.active.some((a) => a.link === link && a.fault === fault);
}

function faultRow(state, link, fault, spec) {
  const on = isOn(state, link, fault);
  const id = `${link}-${fault}`;
  // A fault that is on shows the values it was switched on with, not the defaults.
  const active = (state.active.find((a) => a.link === link && a.fault === fault) || {}).params || {};
  const inputs = Object.entries(spec.params).map(([param, value]) =>
    el("label", {}, `${withUnit(param, spec.units[param])} `, el("input", { type: "number", min: "0", id: `${id}-${param}`, value: String(active[param] ?? value) })));
  inputs.push(el("label", {}, `${withUnit("for", spec.units.duration_s)} `, el("input", { type: "number", min: "0", step: "0.5", id: `${id}-duration_s`, placeholder: "∞" })));
  const button = el("button", { type: "button", id: `switch-${id}`, class: on ? "on" : "" }, on ? "Switch off" : "Switch on");
  button.addEventListener("click", () => switchFault(link, fault, !on, Object.keys(spec.params)));
  return el("div", { class: `fault${on ? " on" : ""}`, title: spec.description },
    el("span", { class: "name" }, fault), ...inputs, button);
}

// Keep what a person is typing: only redraw a fault row when its on/off state changed.
function drawFaults(state) {
  const box = document.getElementById("faults");
  const signature = JSON.stringify([Object.keys(state.links), state.active.map((a) => [a.link, a.fault])]);
  if (box.dataset.signature === signature) return;
  box.dataset.signature = signature;
  box.replaceChildren(...Object.keys(state.links).map((link) =>
    el("div", { class: "link" }, el("h3", {}, `link: ${link}`),
      ...Object.entries(state.faults).map(([fault, spec]) => faultRow(state, link, fault, spec)))));
}

function drawProxies(state) {
  const rows = state.proxies.map((p) => el("tr", { "data-proxy": p.name },
    el("td", {}, p.name), el("td", {}, p.listen), el("td", {}, p.upstream),
    el("td", { class: p.enabled ? "" : "down" }, p.enabled ? "yes" : "NO"),
    el("td", {}, p.toxics.map((t) => `${t.name} (${t.text})`).join("; ") || "—")));
  document.querySelector("#proxies tbody").replaceChildren(...rows);
}

function drawLog(state) {
  const rows = [...state.log].reverse().map((e) => el("tr", {},
    el("td", {}, new Date(e.t * 1000).toLocaleTimeString()),
    el("td", {}, e.link),
    el("td", {}, e.event === "profile" ? `profile ${e.profile}` : `${e.fault} ${e.on ? "on" : "off"}`),
    el("td", {}, e.event === "fault" ? paramsText(state, e.fault, e.params) : "")));
  document.querySelector("#log tbody").replaceChildren(...rows);
}

function drawProfile(state) {
  const select = document.getElementById("profile");
  if (!select.options.length) {
    for (const [name, description] of Object.entries(state.profiles)) {
      select.append(el("option", { value: name }, `${name} — ${description}`));
    }
    select.value = state.profile;
  }
  document.getElementById("profile-current").textContent = `now: ${state.profile}`;
}

function draw(state) {
  drawProfile(state);
  drawFaults(state);
  drawProxies(state);
  drawLog(state);
}

async function switchFault(link, fault, on, paramNames) {
  const params = {};
  if (on) {
    for (const name of [...paramNames, "duration_s"]) {
      const text = document.getElementById(`${link}-${fault}-${name}`).value;
      if (text !== "") params[name] = Number(text);
    }
  }
  try {
    draw(await call("POST", "/chaos/faults", { fault, link, on, params }));
    showError("");
  } catch (error) {
    showError(error.message);
  }
}

async function applyProfile() {
  try {
    draw(await call("POST", "/chaos/profile", { profile: document.getElementById("profile").value }));
    showError("");
  } catch (error) {
    showError(error.message);
  }
}

async function refresh() {
  try {
    draw(await call("GET", "/chaos/state"));
  } catch (error) {
    showError(`cannot read the panel's state: ${error.message}`);
  }
}

document.getElementById("apply-profile").addEventListener("click", applyProfile);
refresh();
setInterval(refresh, REFRESH_MS);
