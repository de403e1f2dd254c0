#!/usr/bin/env node
// SPDX-License-Identifier: LGPL-2.1-or-later
// Drives Debian's Chromium (headless, through playwright-core) on the tws player page and
// reports what the viewer saw, for tests/e2e/test_browser.py and bench/browser.py.
//
//   node browser.js [CHROMIUM]      reads one JSON step a line on stdin, answers each with
//                                   one JSON line on stdout; ends at the end of stdin
//
// Chromium is started once (CHROMIUM, default /usr/bin/chromium). Steps:
//   {"do": "open", "url": U}                      a fresh browser context (empty cache), load U
//   {"do": "startup", "timeoutMs": T}             wait for the first frame while playing
//   {"do": "play", "seconds": S}                  watch playback for S s: time and frames moved
//   {"do": "seek", "to": SECONDS | "fraction": F, "timeoutMs": T}
//                                                 seek, wait for the first frame after it
//   {"do": "select", "id": ID, "value": V}        pick an option in the page's <select id=ID>
//   {"do": "select", "id": ID, "expr": JS}        the same, the option's value given by JS
//   {"do": "waitFor", "expr": JS, "timeoutMs": T} wait until the expression is true
//   {"do": "eval", "expr": JS}                    the expression's value
//   {"do": "screenshot", "path": P}               a PNG of the page
//   {"do": "hover", "selector": S, "fraction": F}  move the mouse over element S, F of its width
//                                                 from its left edge (its vertical middle)
//   {"do": "shot", "selector": S, "path": P}      a PNG of element S only
//   {"do": "close"}                               close the context
// Every answer has "ok" (false with "error" on a timeout or a fatal player error), the page's
// window.tws figures at its end ("stats") and the console errors since the last answer.
'use strict';

const { chromium } = require('playwright-core');

const STATS = `(() => {
  const t = window.tws || {};
  const v = document.getElementById('video');
  const buffered = [];
  for (let i = 0; v && i < v.buffered.length; i++) buffered.push([v.buffered.start(i), v.buffered.end(i)]);
  return {
    config: t.config, startupMs: t.startupMs, startEpochMs: t.startEpochMs, timelineStart: t.timelineStart, stallLog: t.stallLog, framesPresented: t.framesPresented,
    seeks: t.seeks, stalls: t.stalls, stallMs: t.stallMs, errors: t.errors, fatal: t.fatal,
    level: t.level, levels: t.levels, audioTracks: t.audioTracks, audioTrack: t.audioTrack,
    subtitleTracks: t.subtitleTracks, subtitleTrack: t.subtitleTrack,
    currentTime: v ? v.currentTime : null, duration: v ? v.duration : null,
    paused: v ? v.paused : null, videoWidth: v ? v.videoWidth : 0, videoHeight: v ? v.videoHeight : 0,
    buffered,
    droppedFrames: v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().droppedVideoFrames : 0,
  };
})()`;

async function waitUntil(page, expr, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [done, fatal] = await page.evaluate(
      `[!!(${expr}), (window.tws && window.tws.fatal) || null]`);
    if (done) return null;
    if (fatal) return `fatal player error ${fatal.type} ${fatal.details}`;
    if (Date.now() > deadline) return `not true within ${timeoutMs} ms: ${expr}`;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function step(state, st) {
  const r = { do: st.do, ok: true };
  const t0 = Date.now();
  let page = state.page;
  try {
    if (st.do === 'open') {
      if (state.context) await state.context.close();
      state.context = await state.browser.newContext();
      page = state.page = await state.context.newPage();
      page.on('console', (m) => { if (m.type() === 'error') state.console.push(m.text()); });
      page.on('pageerror', (e) => state.console.push(String(e)));
      const resp = await page.goto(st.url, { waitUntil: 'load', timeout: 30000 });
      r.status = resp ? resp.status() : null;
    } else if (!page && st.do !== 'close') {
      r.error = 'no page open';
    } else if (st.do === 'startup') {
      r.error = await waitUntil(page, 'window.tws && window.tws.startupMs !== null', st.timeoutMs || 60000);
    } else if (st.do === 'play') {
      const before = await page.evaluate(STATS);
      await new Promise((res) => setTimeout(res, (st.seconds || 2) * 1000));
      const after = await page.evaluate(STATS);
      r.mediaAdvanced = after.currentTime - before.currentTime;
      r.framesAdvanced = after.framesPresented - before.framesPresented;
      r.stallsDuring = after.stalls - before.stalls;
    } else if (st.do === 'seek') {
      const n = await page.evaluate('window.tws.seeks.length');
      const to = st.to !== undefined ? st.to
        : await page.evaluate(`document.getElementById('video').duration * ${st.fraction}`);
      r.to = to;
      await page.evaluate(`document.getElementById('video').currentTime = ${to}`);
      r.error = await waitUntil(page, `window.tws.seeks.length > ${n}`, st.timeoutMs || 60000);
      if (!r.error) r.seek = await page.evaluate(`window.tws.seeks[${n}]`);
    } else if (st.do === 'select') {
      r.value = String(st.expr !== undefined ? await page.evaluate(st.expr) : st.value);
      await page.selectOption(`#${st.id}`, r.value);
    } else if (st.do === 'waitFor') {
      r.error = await waitUntil(page, st.expr, st.timeoutMs || 30000);
    } else if (st.do === 'eval') {
      r.value = await page.evaluate(st.expr);
    } else if (st.do === 'screenshot') {
      await page.screenshot({ path: st.path });
    } else if (st.do === 'hover') {
      const box = await page.locator(st.selector).boundingBox();
      if (!box) throw new Error(`no element ${st.selector} on screen`);
      await page.mouse.move(box.x + box.width * st.fraction, box.y + box.height / 2, { steps: 4 });
    } else if (st.do === 'shot') {
      await page.locator(st.selector).screenshot({ path: st.path });
    } else if (st.do === 'close') {
      if (state.context) await state.context.close();
      state.context = state.page = page = null;
    } else {
      r.error = `unknown step ${st.do}`;
    }
  } catch (e) {
    r.error = String(e && e.message ? e.message : e).split('\n')[0];
  }
  r.wallMs = Date.now() - t0;
  if (page && st.do !== 'close') {
    try { r.stats = await page.evaluate(STATS); } catch (e) { /* page gone */ }
  }
  if (r.error) r.ok = false;
  r.console = state.console.splice(0);
  return r;
}

async function main() {
  const state = { console: [], context: null, page: null };
  state.browser = await chromium.launch({
    executablePath: process.argv[2] || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync',
           '--autoplay-policy=no-user-gesture-required', '--mute-audio'],
  });
  process.stdout.write(JSON.stringify({ ready: true, version: state.browser.version() }) + '\n');
  const lines = require('readline').createInterface({ input: process.stdin });
  try {
    for await (const line of lines) {
      if (!line.trim()) continue;
      let r;
      try {
        r = await step(state, JSON.parse(line));
      } catch (e) {
        r = { ok: false, error: `bad step: ${e}` };
      }
      process.stdout.write(JSON.stringify(r) + '\n');
    }
  } finally {
    await state.browser.close();
  }
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ ok: false, error: String(e && e.stack ? e.stack : e) }) + '\n');
  process.exit(1);
});
