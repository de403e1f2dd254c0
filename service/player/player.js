// SPDX-License-Identifier: LGPL-2.1-or-later
// The tws player page: hls.js on a signed playlist URL (?src=), quality, audio-track and
// subtitle pickers, and the start-up and seek times this viewer saw.
//
// Trick play: hovering or dragging on the seek bar under the video shows the thumbnail of
// that time, from the storyboard the media playlist names in its "#TWS-STORYBOARD:" line
// (a master's first variant's); the storyboard is fetched on the first hover, so a viewer who
// never hovers costs the server nothing. A click or a drag seeks there.
//
// Query: src (the signed .m3u8 URL, required), autoplay=1 (start at once, muted if the
// browser's autoplay policy asks for it), hls=defaults (hls.js's own configuration, to
// compare with the one below).
//
// Start-up: from the press of play (or the page's start with autoplay) to the first video
// frame presented while playing. Seek: from `seeking` to the first frame presented after
// `seeked`. Both come from requestVideoFrameCallback, i.e. what reached the screen.
// window.tws holds the figures for scripts (tests and benchmarks).
'use strict';

(function () {
  const params = new URLSearchParams(location.search);
  const src = params.get('src');
  const video = document.getElementById('video');
  const $ = (id) => document.getElementById(id);

  // Tuned for segments transcoded while they are fetched: a cold segment arrives at the
  // encoder's pace, so its bytes are demuxed and appended as they stream (progressive), the
  // first segment is fetched while the media element attaches, no extra fragment is fetched
  // to test the bandwidth first, and a slow first byte is not a network error.
  const slowFirstByte = {
    default: {
      maxTimeToFirstByteMs: 30000,
      maxLoadTimeMs: 120000,
      timeoutRetry: { maxNumRetry: 2, retryDelayMs: 0, maxRetryDelayMs: 0 },
      errorRetry: { maxNumRetry: 3, retryDelayMs: 500, maxRetryDelayMs: 4000 },
    },
  };
  // hls.js hands a progressively loaded segment to its demuxer in pieces of at least 128 KB,
  // 0.8 s of a 720p segment: a segment that streams at the encoder's pace shows its first
  // frames only when that much is encoded. This loader wraps hls.js's own (the fetch loader in
  // progressive mode) and hands the pieces on at 16 KB.
  //
  // It also holds the request of every main segment after the first until the first frame
  // shows (startGate below): the next segment would compete with the start for this device's
  // CPU and the server's. maxMaxBufferLength alone does not keep hls.js from asking early: it
  // measures the main buffer on video and audio together until the audio track's first
  // segment is in, so a slow audio segment makes it fetch the next video one.
  const kChunkBytes = 16 * 1024;
  const startGate = {
    open: false,
    first: null,  // [start, end) in media time of the first main segment requested
    held: [],     // functions that send the requests held
    holds(frag) {
      if (this.open || frag.type !== 'main' || typeof frag.sn !== 'number') return false;
      if (this.first === null) this.first = [frag.start, frag.start + frag.duration];
      return frag.start !== this.first[0];
    },
    // At the first frame, or a seek out of the first segment before it.
    release() {
      if (this.open) return;
      this.open = true;
      this.held.splice(0).forEach((send) => send());
    },
  };
  // A seek's target goes with the request for the segment that holds it (?t=, seconds): the
  // server then makes a segment that is not stored yet with the frames before it as a cheap
  // draft, so the frame shown first comes sooner (docs/API.md, "Seek hint"). A quarter second
  // of margin: hls.js's media time and the playlist's may differ by a frame or two.
  const seekHint = {
    to: null,  // media time of the last seek, until its segment is requested
    add(context) {
      const frag = context.frag;
      if (this.to === null || !frag || frag.type !== 'main') return;
      if (this.to < frag.start || this.to >= frag.start + frag.duration) return;
      const t = Math.max(frag.start, this.to - 0.25);
      this.to = null;
      context.url += (context.url.includes('?') ? '&' : '?') + 't=' + t.toFixed(3);
      note('hint', fragName(frag) + ' t=' + t.toFixed(3));
    },
  };
  class StreamingFragmentLoader {
    constructor(config) {
      this.inner = new config.loader(config);
      this.holding = null;  // {context, callbacks} while the start gate holds the request
    }
    get context() {
      return this.inner.context;
    }
    get stats() {
      return this.inner.stats;
    }
    load(context, config, callbacks) {
      const small = Number.isFinite(config.highWaterMark) && config.highWaterMark > kChunkBytes;
      const pieces = small ? { ...config, highWaterMark: kChunkBytes } : config;
      seekHint.add(context);
      const send = () => {
        note('request', fragName(context.frag));
        this.inner.stats.loading.start = 0;  // the loader starts its own clock (once only)
        this.inner.load(context, pieces, callbacks);
      };
      if (!startGate.holds(context.frag)) {
        send();
        return;
      }
      // hls.js's ABR gives up on a request that takes too long: it counts from here.
      this.inner.stats.loading.start = performance.now();
      this.holding = { context, callbacks };
      startGate.held.push(() => {
        if (this.holding === null) return;  // aborted while held
        this.holding = null;
        send();
      });
    }
    abort() {
      if (this.holding) {
        const { context, callbacks } = this.holding;
        this.holding = null;
        this.inner.stats.aborted = true;
        callbacks.onAbort(this.inner.stats, context, null);
        return;
      }
      this.inner.abort();
    }
    destroy() {
      this.holding = null;
      this.inner.destroy();
    }
    getCacheAge() {
      return this.inner.getCacheAge ? this.inner.getCacheAge() : null;
    }
    getResponseHeader(name) {
      return this.inner.getResponseHeader ? this.inner.getResponseHeader(name) : null;
    }
  }

  const twsConfig = {
    progressive: true,
    fLoader: StreamingFragmentLoader,
    // hls.js's worker is started from a copy of the whole library, compiled again, before the
    // first segment can be transmuxed; a 720p segment transmuxes in a few ms on the page's own
    // thread. With the 16 KB pieces, start-up bench medians (bench/startup.py --repeat 3):
    // cold 794-1083 ms in 4 runs before, 645 and 739 ms in 2 after; warm 502-621 -> 413-497 ms.
    enableWorker: false,
    startFragPrefetch: true,
    testBandwidth: false,
    fragLoadPolicy: slowFirstByte,
    backBufferLength: 60,
    // Every segment fetched is transcoded if nobody did before: buffer 30 s ahead (60 s at
    // most), not hls.js's up to 600 s, which makes the server transcode most of a video for a
    // viewer who leaves after a minute.
    maxBufferLength: 30,
    // Until the first frame shows, only the first segment (and the start gate above holds
    // what hls.js asks for beyond it): fetching and transmuxing the next ones would compete
    // with the start for this device's CPU (and the server's). onFrame() sets
    // maxMaxBufferLength back to 60.
    maxMaxBufferLength: 1,
    // An audio track picked plays on the old one for 2 s, the time to make a cold segment of
    // the new one, instead of stopping for it.
    nextAudioTrackBufferFlushForwardOffset: 2,
  };
  const useDefaults = params.get('hls') === 'defaults';

  const stats = {
    config: useDefaults ? 'defaults' : 'tws',
    started: false,
    storyboard: null,     // {url, cues} once the seek bar was hovered
    thumb: null,          // the thumbnail shown: {time, start, end, url, x, y, w, h}
    startupMs: null,      // press of play -> first frame presented while playing
    startEpochMs: null,   // when play was pressed (ms since 1970), to line up with server logs
    timelineStart: null,  // where hls.js put media time 0 (start of the buffer at start-up)
    framesPresented: 0,   // frames reported by requestVideoFrameCallback
    lastMediaTime: 0,
    seeks: [],            // {from, to, ms}: seeking -> first frame presented after seeked
    stalls: 0,            // `waiting` after start-up, outside seeks
    stallLog: [],         // {at: ms since start, time: media time, buffered} of each
    events: [],           // [ms since start, event, detail]: the last 300 loads, appends, switches
    stallMs: 0,
    errors: [],           // every hls.js error: {type, details, fatal}
    fatal: null,          // the first fatal hls.js error, if any
    level: -1,
    levels: [],
    audioTracks: [],
    audioTrack: -1,
    subtitleTracks: [],
    subtitleTrack: -1,
  };
  window.tws = stats;

  let t0 = 0;
  let seekStart = null;  // {from, to, t, seeked}
  let stallStart = null;

  function ms(t) {
    return Math.round(t) + ' ms';
  }

  function ranges() {
    const out = [];
    for (let i = 0; i < video.buffered.length; i++) {
      out.push([+video.buffered.start(i).toFixed(3), +video.buffered.end(i).toFixed(3)]);
    }
    return out;
  }

  function fragName(f) {
    return `${f.type} ${f.level} #${f.sn}`;
  }

  function note(event, detail) {
    stats.events.push([Math.round(performance.now() - t0), event, detail]);
    if (stats.events.length > 300) stats.events.shift();
  }

  function showError(text) {
    $('error').textContent = text;
  }

  function fillSelect(select, items, label, keepFirst) {
    while (select.options.length > (keepFirst ? 1 : 0)) select.remove(select.options.length - 1);
    items.forEach((item, i) => {
      const o = document.createElement('option');
      o.value = String(i);
      o.textContent = label(item, i);
      select.appendChild(o);
    });
  }

  function onFrame(now, meta) {
    stats.framesPresented = meta.presentedFrames;
    stats.lastMediaTime = meta.mediaTime;
    if (stats.startupMs === null && !video.paused) {
      stats.startupMs = now - t0;
      if (stats.hls && !useDefaults) stats.hls.config.maxMaxBufferLength = 60;
      startGate.release();
      stats.timelineStart = video.buffered.length ? video.buffered.start(0) : null;
      $('startup').textContent = ms(stats.startupMs);
    }
    if (seekStart && seekStart.seeked) {
      const s = { from: seekStart.from, to: seekStart.to, ms: now - seekStart.t };
      stats.seeks.push(s);
      seekStart = null;
      $('seek').textContent = `${ms(s.ms)} (to ${s.to.toFixed(1)} s)`;
      $('seeks').textContent = stats.seeks.map((x) => ms(x.ms)).join(', ');
    }
    video.requestVideoFrameCallback(onFrame);
  }

  function describeLevel(l) {
    const kbps = Math.round((l.bitrate || 0) / 1000);
    return (l.height ? l.height + 'p' : 'audio') + (kbps ? ` ${kbps} kb/s` : '');
  }

  function start() {
    if (stats.started) return;
    stats.started = true;
    t0 = performance.now();
    stats.startEpochMs = performance.timeOrigin + t0;
    $('play').disabled = true;
    const hls = new Hls(useDefaults ? {} : twsConfig);
    stats.hls = hls;
    hls.subtitleDisplay = true;

    hls.on(Hls.Events.FRAG_LOADING, (_e, d) => note('loading', fragName(d.frag)));
    hls.on(Hls.Events.FRAG_LOADED, (_e, d) => note('loaded', fragName(d.frag)));
    hls.on(Hls.Events.FRAG_BUFFERED, (_e, d) => note('buffered', fragName(d.frag) + ' ' + JSON.stringify(ranges())));
    hls.on(Hls.Events.BUFFER_APPENDED, (_e, d) => {
      note('appended', `${d.type} ${d.frag ? d.frag.sn : ''} ${JSON.stringify(ranges())}`);
      // hls.js puts the stream's lowest DTS at 0, so a stream with B-frames starts a frame or
      // two later: start there as soon as it is buffered, rather than when hls.js finds
      // playback stuck at 0.
      const b = video.buffered;
      if (stats.startupMs === null && b.length && video.currentTime < b.start(0) &&
          b.start(0) - video.currentTime < 1) {
        video.currentTime = b.start(0);
      }
    });
    hls.on(Hls.Events.LEVEL_SWITCHING, (_e, d) => note('level', d.level));
    hls.on(Hls.Events.MANIFEST_PARSED, (_e, data) => {
      stats.levels = data.levels.map((l) => ({ width: l.width, height: l.height, bitrate: l.bitrate }));
      fillSelect($('quality'), data.levels, describeLevel, true);
      $('quality').disabled = data.levels.length < 2;
    });
    hls.on(Hls.Events.LEVEL_SWITCHED, (_e, data) => {
      stats.level = data.level;
      $('level').textContent = describeLevel(hls.levels[data.level]) +
        (hls.autoLevelEnabled ? ' (auto)' : '');
    });
    hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, (_e, data) => {
      stats.audioTracks = data.audioTracks.map((t) => ({ name: t.name, lang: t.lang }));
      fillSelect($('audio'), data.audioTracks, (t) => t.name || t.lang || 'track', false);
      $('audio').disabled = data.audioTracks.length < 2;
      $('audio').value = String(hls.audioTrack);
    });
    hls.on(Hls.Events.AUDIO_TRACK_SWITCHED, (_e, data) => {
      stats.audioTrack = data.id;
      $('audio').value = String(data.id);
    });
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, (_e, data) => {
      stats.subtitleTracks = data.subtitleTracks.map((t) => ({ name: t.name, lang: t.lang }));
      fillSelect($('subtitles'), data.subtitleTracks, (t) => t.name || t.lang || 'track', true);
      $('subtitles').disabled = data.subtitleTracks.length === 0;
    });
    hls.on(Hls.Events.SUBTITLE_TRACK_SWITCH, (_e, data) => {
      stats.subtitleTrack = data.id;
      $('subtitles').value = String(data.id);
    });
    hls.on(Hls.Events.ERROR, (_e, data) => {
      stats.errors.push({ type: data.type, details: data.details, fatal: !!data.fatal });
      note('error', data.details);
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !stats.recovered) {
        stats.recovered = true;  // one recovery from a decode error, as hls.js suggests
        hls.recoverMediaError();
        return;
      }
      stats.fatal = stats.fatal || { type: data.type, details: data.details };
      showError(`playback failed: ${data.type} ${data.details}`);
      hls.destroy();
    });

    hls.loadSource(src);
    hls.attachMedia(video);
    video.play().catch((err) => {
      if (err.name !== 'NotAllowedError') return;
      video.muted = true;  // the browser's autoplay policy allows muted playback
      video.play().catch(() => showError('press play to start'));
    });
  }

  video.addEventListener('seeking', () => {
    if (stats.startupMs === null) {
      // hls.js's own start position, or a viewer's seek before the first frame: that one
      // wants a segment other than the first.
      const t = video.currentTime;
      if (startGate.first && (t < startGate.first[0] - 0.5 || t >= startGate.first[1])) {
        startGate.release();
      }
      return;
    }
    seekStart = { from: stats.lastMediaTime, to: video.currentTime, t: performance.now(), seeked: false };
    seekHint.to = video.currentTime;
    note('seeking', +video.currentTime.toFixed(3));
  });
  video.addEventListener('seeked', () => {
    if (seekStart) seekStart.seeked = true;
  });
  video.addEventListener('waiting', () => {
    if (stats.startupMs === null || seekStart) return;
    stats.stalls += 1;
    stallStart = performance.now();
    stats.stallLog.push({ at: Math.round(stallStart - t0), time: video.currentTime, buffered: ranges() });
    $('stalls').textContent = String(stats.stalls);
  });
  video.addEventListener('playing', () => {
    if (stallStart !== null) stats.stallMs += performance.now() - stallStart;
    stallStart = null;
  });
  video.addEventListener('timeupdate', () => {
    const b = video.buffered;
    for (let i = 0; i < b.length; i++) {
      if (b.start(i) <= video.currentTime + 0.1 && b.end(i) >= video.currentTime) {
        $('buffer').textContent = (b.end(i) - video.currentTime).toFixed(1) + ' s';
      }
    }
  });

  // The next segment comes from the rendition or audio track picked: what is buffered plays
  // on (no stall).
  $('quality').addEventListener('change', (e) => { stats.hls.nextLevel = Number(e.target.value); });
  $('audio').addEventListener('change', (e) => { stats.hls.nextAudioTrack = Number(e.target.value); });
  $('subtitles').addEventListener('change', (e) => { stats.hls.subtitleTrack = Number(e.target.value); });
  // Trick play (see the top of this file). stats.thumb: what the hovered thumbnail shows.
  const board = { loading: null, cues: [] };
  async function storyboardUrl() {
    let base = src;
    let text = await (await fetch(src)).text();
    if (text.includes('#EXT-X-STREAM-INF')) {
      const lines = text.split('\n');
      const at = lines.findIndex((l) => l.startsWith('#EXT-X-STREAM-INF'));
      const variant = lines.slice(at + 1).find((l) => l.trim() && !l.startsWith('#'));
      if (!variant) return null;
      base = new URL(variant.trim(), src).href;
      text = await (await fetch(base)).text();
    }
    const line = text.split('\n').find((l) => l.startsWith('#TWS-STORYBOARD:'));
    return line ? new URL(line.slice('#TWS-STORYBOARD:'.length).trim(), base).href : null;
  }
  function parseTime(t) {
    const [h, m, s] = t.split(':');
    return Number(h) * 3600 + Number(m) * 60 + Number(s);
  }
  function parseStoryboard(text, base) {
    const cues = [];
    const lines = text.split('\n');
    for (let i = 0; i + 1 < lines.length; i++) {
      const m = lines[i].match(/^([\d:.]+) --> ([\d:.]+)/);
      const ref = lines[i + 1].match(/^(.*)#xywh=(\d+),(\d+),(\d+),(\d+)$/);
      if (!m || !ref) continue;
      cues.push({ start: parseTime(m[1]), end: parseTime(m[2]), url: new URL(ref[1], base).href,
        x: +ref[2], y: +ref[3], w: +ref[4], h: +ref[5] });
    }
    return cues;
  }
  function loadStoryboard() {
    if (!board.loading) {
      board.loading = storyboardUrl()
        .then((url) => (url ? fetch(url).then((r) => (r.ok ? r.text() : '')).then((t) => {
          board.cues = parseStoryboard(t, url);
          stats.storyboard = { url, cues: board.cues.length };
        }) : null))
        .catch((e) => note('storyboard', String(e)));
    }
    return board.loading;
  }
  function mediaDuration() {
    if (Number.isFinite(video.duration) && video.duration > 0) return video.duration;
    return board.cues.length ? board.cues[board.cues.length - 1].end : 0;
  }
  function scrubTime(e) {
    const r = $('scrub').getBoundingClientRect();
    const f = Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
    return { f, x: f * r.width, t: f * mediaDuration() };
  }
  function showThumb(e) {
    const at = scrubTime(e);
    const c = board.cues.find((q) => at.t >= q.start && at.t < q.end) || board.cues[board.cues.length - 1];
    if (!c) return;
    const img = $('thumb-img');
    img.style.width = c.w + 'px';
    img.style.height = c.h + 'px';
    img.style.backgroundImage = `url("${c.url}")`;
    img.style.backgroundPosition = `-${c.x}px -${c.y}px`;
    $('thumb-time').textContent = at.t.toFixed(1) + ' s';
    $('thumb').style.left = at.x + 'px';
    $('thumb').hidden = false;
    stats.thumb = { time: at.t, start: c.start, end: c.end, url: c.url, x: c.x, y: c.y, w: c.w, h: c.h };
  }
  let dragging = false;
  function seekTo(e) {
    const t = scrubTime(e).t;
    if (!(t >= 0) || !mediaDuration()) return;
    if (!stats.started) start();
    video.currentTime = t;
  }
  $('scrub').addEventListener('pointermove', (e) => {
    loadStoryboard().then(() => showThumb(e));
    if (dragging) seekTo(e);
  });
  $('scrub').addEventListener('pointerleave', () => { if (!dragging) $('thumb').hidden = true; });
  $('scrub').addEventListener('pointerdown', (e) => {
    dragging = true;
    $('scrub').setPointerCapture(e.pointerId);
    loadStoryboard().then(() => showThumb(e));
  });
  $('scrub').addEventListener('pointerup', (e) => {
    if (dragging) seekTo(e);
    dragging = false;
    $('thumb').hidden = true;
  });
  video.addEventListener('timeupdate', () => {
    const d = mediaDuration();
    $('scrub-played').style.width = d ? (100 * video.currentTime / d).toFixed(2) + '%' : '0';
  });

  $('play').addEventListener('click', () => { start(); });
  video.addEventListener('play', () => { start(); });

  if (!src) {
    showError('no playlist: open /player?src=<signed playlist URL>');
    $('play').disabled = true;
    return;
  }
  $('src').textContent = src;
  if (!window.Hls || !Hls.isSupported()) {
    // Safari on iPhone has no Media Source Extensions but plays HLS itself (no pickers then).
    if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = src;
      stats.config = 'native';
      stats.started = true;
      video.addEventListener('play', () => { if (!t0) t0 = performance.now(); }, { once: true });
      video.requestVideoFrameCallback(onFrame);
      if (params.get('autoplay') === '1') video.play().catch(() => showError('press play to start'));
      return;
    }
    showError('this browser cannot play HLS (no Media Source Extensions)');
    return;
  }
  video.requestVideoFrameCallback(onFrame);
  if (params.get('autoplay') === '1') start();
})();
