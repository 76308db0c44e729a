// The page side of test/support/browser.ts: a thin driver around the unchanged Flashphoner Web SDK bundle.
// Plain browser JavaScript (the page is served as is, not compiled). Loaded BEFORE flashphoner.js so that the
// RTCPeerConnection count below sees every peer connection the SDK (or its webrtc-adapter) makes.
'use strict';

(function () {
  // Signalling-only tests create no peer connection, so no ICE candidate ever leaves the machine; the count lets
  // a test prove it (see "WebRTC and ICE" in browser.ts).
  var peerConnections = 0;
  var NativePeerConnection = window.RTCPeerConnection;
  if (NativePeerConnection) {
    window.RTCPeerConnection = new Proxy(NativePeerConnection, {
      construct: function (target, args, newTarget) {
        peerConnections++;
        return Reflect.construct(target, args, newTarget);
      },
    });
  }

  var sessions = [];
  // Calls by id: the SDK's Call and every CALL_STATUS callback it fired, in order.
  var calls = {};

  function recordCall(call) {
    var record = { call: call, statuses: [] };
    calls[call.id()] = record;
    Object.keys(Flashphoner.constants.CALL_STATUS).forEach(function (key) {
      var status = Flashphoner.constants.CALL_STATUS[key];
      call.on(status, function () {
        record.statuses.push(status);
      });
    });
    return record;
  }

  function callRecord(callId) {
    var found = calls[callId];
    if (!found) throw new Error('sdk-page: no call ' + callId);
    return found;
  }

  // The <div>s the SDK puts its <video> elements in (it needs them even for audio-only calls).
  function display(name) {
    var div = document.createElement('div');
    div.id = name + '-' + Object.keys(calls).length;
    document.body.appendChild(div);
    return div;
  }

  // What a phone application passes for an audio call (the SDK demo phone: no video).
  function mediaOptions() {
    return {
      localVideoDisplay: display('local'),
      remoteVideoDisplay: display('remote'),
      constraints: { audio: true, video: false },
      receiveVideo: false,
    };
  }
  var initialized = null;
  // Whether every incoming call is answered as INCOMING_CALL fires (the repeat tests), rather than by answer().
  var autoAnswer = false;

  // A JSON copy of a callback argument: the page keeps plain data only, so the driver can read it at any time.
  function snapshot(value) {
    if (value === undefined) return undefined;
    try {
      return JSON.parse(JSON.stringify(value));
    } catch (err) {
      return { unserializable: String(err) };
    }
  }

  function entry(id) {
    var found = sessions[id];
    if (!found) throw new Error('sdk-page: no session ' + id);
    return found;
  }

  window.sdkPage = {
    // Runs Flashphoner.init once; resolves with the media providers it found. init is async in SDK 2.0.
    start: function () {
      if (!initialized) {
        initialized = Promise.resolve(Flashphoner.init({})).then(function () {
          return Flashphoner.getMediaProviders();
        });
      }
      return initialized;
    },

    // Creates a session and records every SESSION_STATUS callback, in order, with the argument that is not the
    // session itself (getUserData's object for ESTABLISHED, the `fail` object for WARN, nothing for REGISTERED).
    createSession: function (options) {
      var events = [];
      var session = Flashphoner.createSession(options);
      Object.keys(Flashphoner.constants.SESSION_STATUS).forEach(function (key) {
        var status = Flashphoner.constants.SESSION_STATUS[key];
        session.on(status, function () {
          var payload = Array.prototype.find.call(arguments, function (arg) {
            return arg !== session;
          });
          if (status === Flashphoner.constants.SESSION_STATUS.INCOMING_CALL) {
            // The argument is the SDK's Call: kept for answer(), recorded as its id and parties.
            recordCall(payload);
            if (autoAnswer) payload.answer(mediaOptions());
            events.push({ status: status, data: { callId: payload.id(), caller: payload.caller(), callee: payload.callee() } });
            return;
          }
          events.push({ status: status, data: snapshot(payload) });
        });
      });
      sessions.push({ session: session, events: events });
      return sessions.length - 1;
    },

    events: function (id) {
      return entry(id).events;
    },

    status: function (id) {
      return entry(id).session.status();
    },

    disconnect: function (id) {
      entry(id).session.disconnect();
    },

    peerConnectionCount: function () {
      return peerConnections;
    },

    // session.createCall({callee, …}).call(), as the SDK demo phone does; returns the call's id.
    call: function (id, callee) {
      var options = mediaOptions();
      options.callee = callee;
      var call = entry(id).session.createCall(options);
      recordCall(call);
      call.call();
      return call.id();
    },

    // call.answer() of an incoming call (INCOMING_CALL recorded it).
    answer: function (callId) {
      callRecord(callId).call.answer(mediaOptions());
    },

    hangup: function (callId) {
      callRecord(callId).call.hangup();
    },

    callStatuses: function (callId) {
      return callRecord(callId).statuses.slice();
    },

    setAutoAnswer: function (on) {
      autoAnswer = on;
    },

    // Every call the page has seen, in order: its id and the CALL_STATUS callbacks it fired.
    allCalls: function () {
      return Object.keys(calls).map(function (id) {
        return { id: id, statuses: calls[id].statuses.slice() };
      });
    },

    // The call's audio RTP counters from the browser's own getStats() (through the SDK's call.getStats with
    // native stats): packets sent and received and the payload bytes sent, 0 when there is no report yet.
    audioPackets: function (callId) {
      return new Promise(function (resolve) {
        callRecord(callId).call.getStats(function (stats) {
          var sum = function (type, field) {
            return (stats[type] || []).filter(function (r) { return r.kind === 'audio'; }).reduce(function (n, r) { return n + (r[field] || 0); }, 0);
          };
          resolve({ sent: sum('outbound-rtp', 'packetsSent'), received: sum('inbound-rtp', 'packetsReceived'), bytesSent: sum('outbound-rtp', 'bytesSent') });
        }, true);
      });
    },
  };
})();
