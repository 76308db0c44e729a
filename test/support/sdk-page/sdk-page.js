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
  var initialized = null;

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
  };
})();
