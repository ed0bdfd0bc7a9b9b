// The test's side of a page: one JsSIP user agent, driven by the Go test
// through chromedp (Runtime.evaluate, awaiting the promises), which reads
// back what happened from H.
'use strict';

const H = {
  events: [],   // {what, detail, at}: everything noted, in order
  waiters: [],  // pending waitFor calls
  ua: null,
  session: null,
  offerSent: null,     // the body of the INVITE we sent
  offerReceived: null, // the body of the INVITE we received
  answerSent: null,    // the SDP of the 200 we sent (JsSIP's 'sdp' event)
  answerReceived: null, // the body of the 200 we received
  invite: null,   // the INVITE we received: headers the test checks
  pc: null,       // the RTCPeerConnection of the session
};

function note(what, detail) {
  H.events.push({what, detail: detail === undefined ? null : detail, at: Date.now()});
  for (const w of H.waiters.slice()) w.check();
}

function noted(what) { return H.events.find((e) => e.what === what); }

// waitFor resolves with the detail of the first event named what (noted
// before or after the call); it rejects at once on an event named in
// failOn, and after ms milliseconds.
function waitFor(what, ms, failOn) {
  failOn = failOn || [];
  return new Promise((resolve, reject) => {
    const w = {};
    const done = () => { clearTimeout(w.timer); H.waiters.splice(H.waiters.indexOf(w), 1); };
    w.check = () => {
      const ok = noted(what);
      if (ok) { done(); resolve(ok.detail); return; }
      for (const f of failOn) {
        const bad = noted(f);
        if (bad) { done(); reject(new Error(`${f} while waiting for ${what}: ${JSON.stringify(bad.detail)}`)); return; }
      }
    };
    w.timer = setTimeout(() => {
      done();
      reject(new Error(`no ${what} after ${ms} ms; events: ${H.events.map((e) => e.what).join(' ')}`));
    }, ms);
    H.waiters.push(w);
    w.check();
  });
}

const pcConfig = {iceServers: []}; // host candidates only: nothing leaves the machine
const media = {audio: true, video: false};

function describeCause(e) {
  return {originator: e.originator, cause: e.cause,
    status: e.message && e.message.status_code ? e.message.status_code : null};
}

// hook notes a session's events and keeps its descriptions.
function hook(s) {
  H.session = s;
  for (const ev of ['progress', 'confirmed', 'connecting']) {
    s.on(ev, (e) => note(ev, {originator: e.originator}));
  }
  s.on('accepted', (e) => {
    if (e.originator === 'remote' && e.response) H.answerReceived = e.response.body;
    note('accepted', {originator: e.originator});
  });
  s.on('ended', (e) => note('ended', describeCause(e)));
  s.on('failed', (e) => note('failed', describeCause(e)));
  s.on('sdp', (e) => {
    if (e.originator === 'local' && e.type === 'answer') H.answerSent = e.sdp;
  });
  s.on('peerconnection', (e) => watchPC(e.peerconnection));
}

function watchPC(pc) {
  H.pc = pc;
  pc.addEventListener('iceconnectionstatechange', () => note('ice-' + pc.iceConnectionState));
}

// start runs a UA for o.user at o.domain over o.ws and resolves once it is
// registered. o.answer: answer incoming calls (audio from the fake device).
function start(o) {
  // The SIP messages on the console: the test prints it when it fails.
  JsSIP.debug.enable('JsSIP:Transport');
  const socket = new JsSIP.WebSocketInterface(o.ws);
  const ua = new JsSIP.UA({
    sockets: [socket],
    uri: `sip:${o.user}@${o.domain}`,
    authorization_user: o.user,
    password: o.password,
    display_name: o.user,
    register: true,
    register_expires: 600,
    session_timers: false,
    connection_recovery_min_interval: 2,
    connection_recovery_max_interval: 4,
  });
  H.ua = ua;
  ua.on('connected', () => note('connected'));
  ua.on('disconnected', (e) => note('disconnected', {error: !!e.error, code: e.code || null, reason: e.reason || null}));
  ua.on('registered', (e) => note('registered', {status: e.response.status_code, contact: e.response.getHeaders('contact')}));
  ua.on('registrationFailed', (e) => note('registrationFailed', {cause: e.cause, status: e.response ? e.response.status_code : null}));
  ua.on('newRTCSession', (e) => {
    note('newRTCSession', {originator: e.originator});
    if (e.originator !== 'remote') return;
    const r = e.request;
    H.offerReceived = r.body;
    H.invite = {
      ruri: r.ruri.toString(),
      recordRoute: r.getHeaders('record-route'),
      via: r.getHeaders('via'),
      contact: r.getHeaders('contact'),
      from: r.getHeader('from'),
    };
    hook(e.session);
    if (o.answer) e.session.answer({mediaConstraints: media, pcConfig});
  });
  ua.start();
  return waitFor('registered', o.ms, ['registrationFailed']);
}

// call calls target and resolves with the INVITE's body once it is sent.
function call(target, ms) {
  const s = H.ua.call(target, {
    mediaConstraints: media,
    pcConfig,
    eventHandlers: {
      peerconnection: (e) => watchPC(e.peerconnection),
      sending: (e) => { H.offerSent = e.request.body; note('sending'); },
    },
  });
  hook(s);
  return waitFor('sending', ms, ['failed']).then(() => H.offerSent);
}

function hangup() { H.session.terminate(); }

// stop unregisters and stops the UA; it resolves once the socket is closed.
function stop(ms) {
  if (!H.ua) return Promise.resolve();
  H.ua.stop();
  return waitFor('disconnected', ms).catch(() => null);
}

window.H = H;
window.waitFor = waitFor;
window.start = start;
window.call = call;
window.hangup = hangup;
window.stop = stop;
