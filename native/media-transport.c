/*
 * The browser side of a call without a thread hop or JavaScript in the packet path's crypto: one UDP socket per
 * leg, polled on Node's own event loop, with DTLS-SRTP (RFC 5764) over the OpenSSL that Node itself is built with,
 * and SRTP (RFC 3711, AES_CM_128_HMAC_SHA1_80) done here. ICE stays in TypeScript (src/media/ice/): STUN is a few
 * datagrams per second per call, so this module only hands STUN datagrams up and sends what it is given.
 *
 * Why native at all (docs/architecture.md "The native media transport"): with libdatachannel, each browser packet
 * crosses two threads and a N-API thread-safe callback, and those hand-overs and wake-ups, not the JavaScript,
 * were most of a bridged call's CPU (docs/benchmarks.md "CPU per bridged call: callhook's own engine"). Here a
 * packet is read, checked, decrypted and handed to JavaScript in the loop's own thread, in batches of what one
 * wake-up finds (recvmmsg), and sent back with one sendto.
 *
 * The same socket, without DTLS or SRTP (openUdp), carries the RTP leg towards SIP: its datagrams go up with their
 * source, and it sends connected to the source it latched to (connect, send) or to the SDP's address (sendTo).
 *
 * Demultiplexing by the first byte (RFC 7983 §7): 0–3 STUN, 20–63 DTLS, 128–191 RTP and RTCP. Everything else is
 * dropped and counted.
 *
 * Polling: every transport of a Node environment is in one epoll set, which one libuv handle polls. A wake-up reads
 * every socket that has datagrams and hands them all up inside one callback scope: with a socket per call, a wake-up
 * finds a packet or two on each of several sockets, and entering JavaScript (handle and callback scopes, the
 * microtask checkpoint on leaving) once per wake-up rather than once per socket is a good part of a packet's CPU.
 *
 * Handing up: a datagram goes to JavaScript as a place in a receive chunk, a 64 KiB Buffer shared by the datagrams
 * that follow it, rather than as a Buffer of its own (an allocation, an ArrayBuffer and its later sweeping for every
 * packet). A chunk is never written twice: when it is full a new one is made, and the old one lives as long as a view
 * of it does, so what JavaScript keeps stays as it was (and a view kept for long should be a copy, not to keep 64 KiB).
 *
 * Lifetime: JavaScript holds each transport as an external; close() takes the socket out of the epoll set, stops the
 * DTLS timer and frees everything once libuv has closed that handle. A transport is never freed while one of its
 * callbacks runs.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 32          /* datagrams read per recvmmsg: a wake-up under load finds a few to a few dozen */
#define READY_MAX 128     /* sockets taken per wake-up; more stay ready for the next (epoll is level-triggered) */
#define CHUNK_SIZE 65536  /* a receive chunk: a few hundred packets of audio (see "Handing up" above) */
#define MAX_DATAGRAM 1500 /* an Ethernet MTU: browsers send no larger (RTP towards them is capped lower) */
#define SRTP_TAG 10       /* HMAC-SHA1-80 (RFC 3711 §5.2) */
#define SRTCP_TRAILER 14  /* E flag + SRTCP index (4) and the HMAC-SHA1-80 tag (10), RFC 3711 §3.4 */
#define DTLS_MTU 1200     /* what fits any path browsers use, as libwebrtc sends its own DTLS records */
#define FINGERPRINT_BYTES 32
#define REPLAY_WINDOW 64  /* RFC 3711 §3.3.2: at least 64 */

enum { EVENT_CONNECTED = 1, EVENT_FAILED = 2 };

/* A packet's cipher and MAC without a setup per packet: re-keying an OpenSSL counter-mode context for each packet's
 * IV cost more than encrypting a 160-byte payload, and resetting an HMAC context copies a digest context through
 * OpenSSL 3's providers, with an allocation (bench/native-srtp-crypto.c). */
typedef struct {
  EVP_CIPHER_CTX *cipher; /* AES-128 in ECB mode with the session encryption key: it encrypts §4.1.1's counter blocks */
  SHA_CTX inner, outer;   /* HMAC-SHA1 (RFC 2104) with the session authentication key (§4.2.1): the SHA-1 states
                           * after the key XOR ipad and the key XOR opad, copied for each packet */
  uint8_t salt[14];
  /* Sending: the rollover counter and the last sequence number sent. Receiving: the same of the highest index
   * authenticated, and the replay list behind it. */
  uint32_t roc;
  uint16_t last_seq;
  int started;
  uint64_t replay; /* bit i: index (highest − i) was received */
} srtp_context;

/* The environment's epoll set and the libuv handle that polls it (see "Polling" above): made at the first transport,
 * polled while any transport is open, so that it keeps the loop alive exactly as long as one is. */
typedef struct {
  napi_env env;
  uv_poll_t poll;
  int epfd;
  int transports;
  napi_async_context async;
  napi_ref chunk; /* the receive chunk being filled, its memory, and how much of it is used */
  uint8_t *chunk_data;
  size_t chunk_used;
} poller;

typedef struct transport {
  napi_env env;
  poller *owner;
  uv_timer_t dtls_timer;
  int fd;
  int family;
  int closing;
  int timer_open; /* the DTLS timer's handle, closed last: then the struct may go */
  int in_callback;
  int finalized; /* JavaScript let go of the external: the struct may go once the handles are closed */
  int plain;     /* a plain RTP socket (openUdp): every datagram goes up as it came, with its source */
  napi_ref on_stun, on_rtp, on_event;
  napi_ref on_closed; /* close()'s callback: the socket is closed and its port free */
  /* Where DTLS and SRTP go: the pair ICE selected (setRemote). */
  struct sockaddr_storage remote;
  socklen_t remote_len;
  SSL *ssl;
  BIO *from_net, *to_net;
  uint8_t expected_fingerprint[FINGERPRINT_BYTES];
  int srtp_up;
  srtp_context inbound, outbound;
  uint64_t dropped;
} transport;

static uint8_t datagrams[BATCH][MAX_DATAGRAM];
/* recvmmsg's headers for `datagrams` and their sources: set up once (setup_messages), not for each socket read. */
static struct mmsghdr batch_messages[BATCH];
static struct iovec batch_iov[BATCH];
static struct sockaddr_storage batch_from[BATCH];
static uint8_t send_buffer[MAX_DATAGRAM + SRTCP_TRAILER];
/* One packet's AES-CM counter blocks and their keystream (§4.1.1). */
static uint8_t counter_blocks[MAX_DATAGRAM + 16];
static uint8_t keystream[MAX_DATAGRAM + 16];

/* ---- N-API helpers ---- */

static napi_value throw_error(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

static transport *transport_of(napi_env env, napi_value value) {
  void *data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok || data == NULL) {
    throw_error(env, "MEDIA_NATIVE", "not a media transport");
    return NULL;
  }
  transport *t = data;
  if (t->closing) {
    throw_error(env, "MEDIA_STATE", "media transport is closed");
    return NULL;
  }
  return t;
}

/* A call's `count` arguments (undefined where not given), the first of them an open transport: NULL, with a
 * JavaScript error thrown, when it is not one. */
static transport *transport_call(napi_env env, napi_callback_info info, size_t count, napi_value *argv) {
  size_t argc = count;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  return transport_of(env, argv[0]);
}

static int string_arg(napi_env env, napi_value value, char *out, size_t size) {
  size_t len = 0;
  return napi_get_value_string_utf8(env, value, out, size, &len) == napi_ok && len < size - 1;
}

static int parse_address(const char *address, int port, struct sockaddr_storage *out, socklen_t *len) {
  memset(out, 0, sizeof *out);
  if (strchr(address, ':') != NULL) {
    if (uv_ip6_addr(address, port, (struct sockaddr_in6 *)out) != 0) return -1;
    *len = sizeof(struct sockaddr_in6);
  } else {
    if (uv_ip4_addr(address, port, (struct sockaddr_in *)out) != 0) return -1;
    *len = sizeof(struct sockaddr_in);
  }
  return 0;
}

/* Calls one of the transport's JavaScript callbacks; an exception it throws is cleared (the TypeScript side catches
 * its own: nothing may unwind into libuv). */
static void call_js(transport *t, napi_ref ref, size_t argc, napi_value *argv) {
  napi_value fn, global, result;
  napi_get_reference_value(t->env, ref, &fn);
  napi_get_global(t->env, &global);
  if (napi_call_function(t->env, global, fn, argc, argv, &result) == napi_pending_exception) {
    napi_value ignored;
    napi_get_and_clear_last_exception(t->env, &ignored);
  }
}

/* What a libuv callback needs before it may call into JavaScript: a handle scope, and a callback scope so that
 * promise jobs and next-tick callbacks the JavaScript queued run when it returns, as after any I/O callback. */
typedef struct {
  napi_handle_scope handles;
  napi_callback_scope callback;
} js_scope;

static void enter_js(poller *p, js_scope *scope) {
  napi_open_handle_scope(p->env, &scope->handles);
  napi_value resource;
  napi_create_object(p->env, &resource);
  napi_open_callback_scope(p->env, resource, p->async, &scope->callback);
}

static void leave_js(poller *p, js_scope *scope) {
  napi_close_callback_scope(p->env, scope->callback);
  napi_close_handle_scope(p->env, scope->handles);
}

static void release(transport *t);

/* While JavaScript runs for `t`, a close() it asks for waits (the caller is still using `t`); `t` is done with now,
 * and a close() asked for meanwhile is carried out. */
static void begin_callbacks(transport *t) {
  t->in_callback = 1;
}

static void end_callbacks(transport *t) {
  t->in_callback = 0;
  if (t->closing) release(t);
}

static void emit_event(transport *t, int kind, const char *detail) {
  napi_value argv[2];
  napi_create_int32(t->env, kind, &argv[0]);
  napi_create_string_utf8(t->env, detail, NAPI_AUTO_LENGTH, &argv[1]);
  call_js(t, t->on_event, 2, argv);
}

/* ---- SRTP (RFC 3711) ---- */

/* §4.3.1 key derivation (key_derivation_rate 0): AES-CM keystream under the master key, IV = master salt with the
 * label XORed in at byte 7 (key_id = label || 48 zero bits, right-aligned under the 112-bit salt). */
static void derive(const uint8_t *master_key, const uint8_t *master_salt, uint8_t label, uint8_t *out, int len) {
  uint8_t iv[16] = {0};
  memcpy(iv, master_salt, 14);
  iv[7] ^= label;
  memset(out, 0, len);
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int n;
  EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, master_key, iv);
  EVP_EncryptUpdate(c, out, &n, out, len);
  EVP_CIPHER_CTX_free(c);
}

static void srtp_init(srtp_context *s, const uint8_t *master_key, const uint8_t *master_salt) {
  uint8_t key[16], auth[20];
  derive(master_key, master_salt, 0, key, 16);
  derive(master_key, master_salt, 1, auth, 20);
  derive(master_key, master_salt, 2, s->salt, 14);
  s->cipher = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(s->cipher, EVP_aes_128_ecb(), NULL, key, NULL);
  EVP_CIPHER_CTX_set_padding(s->cipher, 0);
  /* RFC 2104 §2: a key shorter than SHA-1's 64-byte block is padded with zeros, then XORed with ipad and opad. */
  uint8_t pad[64];
  memset(pad, 0x36, sizeof pad);
  for (int i = 0; i < 20; i++) pad[i] ^= auth[i];
  SHA1_Init(&s->inner);
  SHA1_Update(&s->inner, pad, sizeof pad);
  memset(pad, 0x5c, sizeof pad);
  for (int i = 0; i < 20; i++) pad[i] ^= auth[i];
  SHA1_Init(&s->outer);
  SHA1_Update(&s->outer, pad, sizeof pad);
  OPENSSL_cleanse(pad, sizeof pad);
  OPENSSL_cleanse(key, sizeof key);
  OPENSSL_cleanse(auth, sizeof auth);
}

static void srtp_free(srtp_context *s) {
  EVP_CIPHER_CTX_free(s->cipher);
  s->cipher = NULL;
  OPENSSL_cleanse(&s->inner, sizeof s->inner);
  OPENSSL_cleanse(&s->outer, sizeof s->outer);
}

/* §4.1.1: keystream block j is AES(k_e, IV + j), IV = (k_s · 2^16) XOR (SSRC · 2^64) XOR (i · 2^16), i = 2^16 · ROC
 * + SEQ. The IV's low 16 bits are zero, so the block number (a datagram has fewer than 2^16 blocks) only fills
 * them: the blocks are written out and encrypted in one call, and the payload XORed with the result. */
static void crypt_payload(srtp_context *s, const uint8_t *header, uint32_t roc, uint8_t *data, size_t len) {
  uint8_t iv[14];
  memcpy(iv, s->salt, 14);
  for (int i = 0; i < 4; i++) iv[4 + i] ^= header[8 + i];
  iv[8] ^= roc >> 24;
  iv[9] ^= roc >> 16;
  iv[10] ^= roc >> 8;
  iv[11] ^= roc;
  iv[12] ^= header[2];
  iv[13] ^= header[3];
  size_t blocks = (len + 15) / 16;
  for (size_t j = 0; j < blocks; j++) {
    uint8_t *block = counter_blocks + 16 * j;
    memcpy(block, iv, 14);
    block[14] = (uint8_t)(j >> 8);
    block[15] = (uint8_t)j;
  }
  int n;
  EVP_EncryptUpdate(s->cipher, keystream, &n, counter_blocks, (int)(16 * blocks));
  for (size_t i = 0; i < len; i++) data[i] ^= keystream[i];
}

/* §4.2: the tag over the authenticated portion and the ROC, HMAC-SHA1 (RFC 2104 §2) from the keyed states. */
static void auth_tag(srtp_context *s, const uint8_t *packet, size_t len, uint32_t roc, uint8_t *tag) {
  uint8_t roc_bytes[4] = {roc >> 24, roc >> 16, roc >> 8, roc};
  uint8_t digest[SHA_DIGEST_LENGTH];
  SHA_CTX c = s->inner;
  SHA1_Update(&c, packet, len);
  SHA1_Update(&c, roc_bytes, 4);
  SHA1_Final(digest, &c);
  c = s->outer;
  SHA1_Update(&c, digest, sizeof digest);
  SHA1_Final(digest, &c);
  memcpy(tag, digest, SRTP_TAG);
  OPENSSL_cleanse(&c, sizeof c);
}

/* The fixed header, CSRCs and extension (RFC 3550 §5.1, §5.3.1); 0 when the packet is shorter than they say. */
static size_t rtp_header_length(const uint8_t *p, size_t len) {
  size_t h = 12 + 4 * (size_t)(p[0] & 0x0f);
  if (len < h) return 0;
  if (p[0] & 0x10) {
    if (len < h + 4) return 0;
    h += 4 + 4 * (size_t)((p[h + 2] << 8) | p[h + 3]);
    if (len < h) return 0;
  }
  return h;
}

/* Appendix A: the ROC a received sequence number most likely belongs to. */
static uint32_t guess_roc(const srtp_context *s, uint16_t seq) {
  if (!s->started) return s->roc;
  if (s->last_seq < 32768) return (seq > s->last_seq && seq - s->last_seq > 32768) ? s->roc - 1 : s->roc;
  return (s->last_seq - 32768 > seq) ? s->roc + 1 : s->roc;
}

static uint64_t packet_index(uint32_t roc, uint16_t seq) {
  return ((uint64_t)roc << 16) | seq;
}

/* §3.3.2: 1 when the index was seen or is older than the window. */
static int is_replay(const srtp_context *s, uint64_t index) {
  if (!s->started) return 0;
  uint64_t highest = packet_index(s->roc, s->last_seq);
  if (index > highest) return 0;
  uint64_t behind = highest - index;
  return behind >= REPLAY_WINDOW || (s->replay >> behind) & 1;
}

static void accept_index(srtp_context *s, uint32_t roc, uint16_t seq) {
  uint64_t index = packet_index(roc, seq);
  uint64_t highest = packet_index(s->roc, s->last_seq);
  if (!s->started || index > highest) {
    uint64_t ahead = s->started ? index - highest : REPLAY_WINDOW;
    s->replay = ahead >= REPLAY_WINDOW ? 1 : (s->replay << ahead) | 1;
    s->roc = roc;
    s->last_seq = seq;
    s->started = 1;
  } else {
    s->replay |= (uint64_t)1 << (highest - index);
  }
}

/* Checks and decrypts in place; the plain packet's length, or 0 to drop it. */
static size_t unprotect_rtp(srtp_context *s, uint8_t *p, size_t len) {
  if (len < 12 + SRTP_TAG) return 0;
  size_t body = len - SRTP_TAG;
  size_t header = rtp_header_length(p, body);
  if (header == 0) return 0;
  uint16_t seq = (p[2] << 8) | p[3];
  uint32_t roc = guess_roc(s, seq);
  if (is_replay(s, packet_index(roc, seq))) return 0;
  uint8_t tag[SRTP_TAG];
  auth_tag(s, p, body, roc, tag);
  if (CRYPTO_memcmp(tag, p + body, SRTP_TAG) != 0) return 0;
  accept_index(s, roc, seq);
  crypt_payload(s, p, roc, p + header, body - header);
  return body;
}

/* Encrypts `plain` into send_buffer and appends the tag; the protected length, or 0 for a malformed packet. */
static size_t protect_rtp(srtp_context *s, const uint8_t *plain, size_t len) {
  size_t header = rtp_header_length(plain, len);
  if (header == 0 || len > MAX_DATAGRAM - SRTP_TAG) return 0;
  uint16_t seq = (plain[2] << 8) | plain[3];
  /* Our own sequence numbers only go up: a smaller one after a large one is the 16-bit counter wrapping (§3.3.1). */
  if (s->started && seq < s->last_seq && s->last_seq - seq > 32768) s->roc++;
  s->last_seq = seq;
  s->started = 1;
  memcpy(send_buffer, plain, len);
  crypt_payload(s, send_buffer, s->roc, send_buffer + header, len - header);
  auth_tag(s, send_buffer, len, s->roc, send_buffer + len);
  return len + SRTP_TAG;
}

/* ---- DTLS (RFC 6347) with the use_srtp extension (RFC 5764) ---- */

static void release_dtls(transport *t) {
  SSL_free(t->ssl); /* frees both BIOs */
  t->ssl = NULL;
}

static void fail(transport *t, const char *what) {
  char detail[256];
  unsigned long e = ERR_get_error();
  if (e != 0) {
    char reason[200];
    ERR_error_string_n(e, reason, sizeof reason);
    snprintf(detail, sizeof detail, "%s: %s", what, reason);
  } else {
    snprintf(detail, sizeof detail, "%s", what);
  }
  ERR_clear_error();
  if (t->ssl) release_dtls(t);
  uv_timer_stop(&t->dtls_timer);
  emit_event(t, EVENT_FAILED, detail);
}

/* Sends what OpenSSL wrote (one flight of records) to the selected pair. */
static void flush_dtls(transport *t) {
  char *data;
  long pending = BIO_get_mem_data(t->to_net, &data);
  if (pending > 0 && t->remote_len > 0) sendto(t->fd, data, pending, MSG_DONTWAIT, (struct sockaddr *)&t->remote, t->remote_len);
  (void)BIO_reset(t->to_net);
}

static void arm_dtls_timer(transport *t);

static void on_dtls_timer(uv_timer_t *timer) {
  transport *t = timer->data;
  if (t->ssl == NULL || t->closing) return;
  if (DTLSv1_handle_timeout(t->ssl) < 0) {
    js_scope scope;
    enter_js(t->owner, &scope);
    begin_callbacks(t);
    fail(t, "DTLS handshake timed out");
    end_callbacks(t);
    leave_js(t->owner, &scope);
    return;
  }
  flush_dtls(t);
  arm_dtls_timer(t);
}

static void arm_dtls_timer(transport *t) {
  struct timeval tv;
  if (t->ssl && !t->srtp_up && DTLSv1_get_timeout(t->ssl, &tv)) {
    uv_timer_start(&t->dtls_timer, on_dtls_timer, (uint64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000 + 1, 0);
  } else {
    uv_timer_stop(&t->dtls_timer);
  }
}

/* Handshake done: the peer's certificate must be the one its SDP named (RFC 5763 §5), then the SRTP keys (RFC 5764
 * §4.2): client key, server key, client salt, server salt; each side sends with its own. */
static void dtls_established(transport *t) {
  X509 *peer = SSL_get1_peer_certificate(t->ssl);
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  int match = peer != NULL && X509_digest(peer, EVP_sha256(), digest, &n) == 1 && n == FINGERPRINT_BYTES &&
              CRYPTO_memcmp(digest, t->expected_fingerprint, FINGERPRINT_BYTES) == 0;
  X509_free(peer);
  if (!match) {
    fail(t, "the browser's DTLS certificate does not match the fingerprint of its SDP");
    return;
  }
  const SRTP_PROTECTION_PROFILE *profile = SSL_get_selected_srtp_profile(t->ssl);
  uint8_t material[60];
  static const char label[] = "EXTRACTOR-dtls_srtp";
  if (profile == NULL || profile->id != SRTP_AES128_CM_SHA1_80 ||
      SSL_export_keying_material(t->ssl, material, sizeof material, label, sizeof label - 1, NULL, 0, 0) != 1) {
    fail(t, "DTLS agreed no SRTP profile (AES_CM_128_HMAC_SHA1_80 is the one offered)");
    return;
  }
  int server = SSL_is_server(t->ssl);
  const uint8_t *client_key = material, *server_key = material + 16;
  const uint8_t *client_salt = material + 32, *server_salt = material + 46;
  srtp_init(&t->inbound, server ? client_key : server_key, server ? client_salt : server_salt);
  srtp_init(&t->outbound, server ? server_key : client_key, server ? server_salt : client_salt);
  OPENSSL_cleanse(material, sizeof material);
  t->srtp_up = 1;
  uv_timer_stop(&t->dtls_timer);
  emit_event(t, EVENT_CONNECTED, SSL_get_version(t->ssl));
}

static void drive_dtls(transport *t) {
  if (t->ssl == NULL) return;
  if (!t->srtp_up) {
    int r = SSL_do_handshake(t->ssl);
    flush_dtls(t);
    if (r == 1) {
      dtls_established(t);
      return;
    }
    int e = SSL_get_error(t->ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      fail(t, "DTLS handshake failed");
      return;
    }
    arm_dtls_timer(t);
    return;
  }
  /* After the handshake, until the browser's first SRTP: a repeated final flight from the peer (our last one was
   * lost) is answered by OpenSSL inside SSL_read; application data is not used by WebRTC audio; close_notify ends
   * the transport. */
  uint8_t sink[256];
  int r = SSL_read(t->ssl, sink, sizeof sink);
  flush_dtls(t);
  if (r <= 0 && SSL_get_error(t->ssl, r) == SSL_ERROR_ZERO_RETURN) fail(t, "the browser closed DTLS");
}

/* ---- the socket ---- */

static int same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
  if (a->ss_family != b->ss_family) return 0;
  if (a->ss_family == AF_INET6) {
    const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a, *y = (const struct sockaddr_in6 *)b;
    return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
  }
  const struct sockaddr_in *x = (const struct sockaddr_in *)a, *y = (const struct sockaddr_in *)b;
  return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
}

/* DTLS is taken only from the address ICE checked (setRemote): a record from anywhere else, which could only be
 * forged, never reaches OpenSSL, so it cannot fail a handshake under way. */
static void received_dtls(transport *t, const uint8_t *p, size_t len, const struct sockaddr_storage *from) {
  if (t->ssl == NULL || t->remote_len == 0 || !same_address(from, &t->remote)) {
    t->dropped++;
    return;
  }
  BIO_write(t->from_net, p, (int)len);
  drive_dtls(t);
}

/* Copies a datagram into the receive chunk: argv gets the chunk, the datagram's offset in it and its length. 0 when
 * no new chunk could be had (memory ran out): the datagram is dropped, as a full socket buffer would drop it. */
static int chunk_args(poller *p, const uint8_t *data, size_t len, napi_value *argv) {
  if (p->chunk == NULL || p->chunk_used + len > CHUNK_SIZE) {
    void *memory = NULL;
    if (napi_create_buffer(p->env, CHUNK_SIZE, &memory, &argv[0]) != napi_ok || memory == NULL) return 0;
    if (p->chunk != NULL) napi_delete_reference(p->env, p->chunk);
    napi_create_reference(p->env, argv[0], 1, &p->chunk);
    p->chunk_data = memory;
    p->chunk_used = 0;
  } else {
    napi_get_reference_value(p->env, p->chunk, &argv[0]);
  }
  memcpy(p->chunk_data + p->chunk_used, data, len);
  napi_create_uint32(p->env, (uint32_t)p->chunk_used, &argv[1]);
  napi_create_uint32(p->env, (uint32_t)len, &argv[2]);
  p->chunk_used += len;
  return 1;
}

static void received_srtp(transport *t, uint8_t *p, size_t len) {
  /* RTCP shares the port (rtcp-mux, RFC 5761 §4: payload types 64–95 with the marker bit): not relayed, as the
   * other engines do not; each leg's reports are its own. */
  uint8_t type = p[1] & 0x7f;
  if (!t->srtp_up || (type >= 64 && type <= 95)) return;
  size_t plain = unprotect_rtp(&t->inbound, p, len);
  if (plain == 0) {
    t->dropped++;
    return;
  }
  /* SRTP that authenticates with the browser's key proves its side of the handshake complete, and so ours (RFC
   * 6347 §4.2.4: it retransmits its last flight until it has our final one): no flight will need answering again.
   * OpenSSL holds about 50 KiB per DTLS connection over UDP for its life (handshake and record buffers, which
   * SSL_MODE_RELEASE_BUFFERS does not let go for DTLS), more than the rest of the call's native state: it goes now.
   * From here on a DTLS record is dropped, close_notify included (the browser's `hangup`, its WebSocket closing or
   * ICE consent end the leg), and close() sends none (the browser learns of the end from the call's status). */
  if (t->ssl) release_dtls(t);
  napi_value argv[3];
  if (!chunk_args(t->owner, p, plain, argv)) {
    t->dropped++;
    return;
  }
  call_js(t, t->on_rtp, 3, argv);
}

/* Hands a datagram up with its source: STUN to the ICE agent, or anything a plain socket receives. A connected plain
 * socket hears its peer only (connect(2)), so its datagrams go up alone, without a source formatted for each. */
static void hand_up(transport *t, const uint8_t *p, size_t len, const struct sockaddr_storage *from) {
  napi_value argv[5];
  if (!chunk_args(t->owner, p, len, argv)) {
    t->dropped++;
    return;
  }
  if (t->plain && t->remote_len > 0) {
    call_js(t, t->on_stun, 3, argv);
    return;
  }
  char name[INET6_ADDRSTRLEN] = "";
  int port;
  if (from->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)from;
    uv_ip6_name(a, name, sizeof name);
    port = ntohs(a->sin6_port);
  } else {
    const struct sockaddr_in *a = (const struct sockaddr_in *)from;
    uv_ip4_name(a, name, sizeof name);
    port = ntohs(a->sin_port);
  }
  napi_create_string_utf8(t->env, name, NAPI_AUTO_LENGTH, &argv[3]);
  napi_create_int32(t->env, port, &argv[4]);
  call_js(t, t->on_stun, 5, argv);
}

/* Reads what `t`'s socket holds (up to BATCH datagrams) and hands each to its handler. */
static void read_socket(transport *t, uint32_t events) {
  if (events & EPOLLERR) {
    /* On UDP an error is the ICMP "port unreachable" a connected socket hears from a peer that went away: it is read
     * off, which clears it (else a level-triggered epoll reports it forever), and reading goes on: a socket must go
     * on reading whatever its peer did. */
    int pending;
    socklen_t len = sizeof pending;
    getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &pending, &len);
  }
  int n = recvmmsg(t->fd, batch_messages, BATCH, MSG_DONTWAIT, NULL);
  /* The kernel shortened the address lengths of the messages it filled: restored for the next socket's read. */
  for (int i = 0; i < n; i++) batch_messages[i].msg_hdr.msg_namelen = sizeof batch_from[i];
  for (int i = 0; i < n && !t->closing; i++) {
    uint8_t *p = datagrams[i];
    size_t len = batch_messages[i].msg_len;
    if (len == 0 && !t->plain) continue;
    if (t->plain) hand_up(t, p, len, &batch_from[i]);
    else if (p[0] <= 3) hand_up(t, p, len, &batch_from[i]);
    else if (p[0] >= 20 && p[0] <= 63) received_dtls(t, p, len, &batch_from[i]);
    else if (p[0] >= 128 && p[0] <= 191 && len >= 12) received_srtp(t, p, len);
    else t->dropped++;
  }
}

/* The epoll set is readable: every ready socket is read, all inside one JavaScript scope. A transport closed by an
 * earlier one's callback is skipped: close() took its socket out of the set, and its struct outlives this turn (it is
 * freed by a libuv close callback, which never runs inside a poll callback). */
static void on_ready(uv_poll_t *handle, int status, int events) {
  (void)status;
  (void)events;
  poller *p = handle->data;
  struct epoll_event ready[READY_MAX];
  int n = epoll_wait(p->epfd, ready, READY_MAX, 0);
  if (n <= 0) return;
  js_scope scope;
  enter_js(p, &scope);
  for (int i = 0; i < n; i++) {
    transport *t = ready[i].data.ptr;
    if (t->closing) continue;
    begin_callbacks(t);
    read_socket(t, ready[i].events);
    end_callbacks(t);
  }
  leave_js(p, &scope);
}

/* The environment's poller, made with its first transport; NULL, with errno set, when no epoll set can be had (out of
 * file descriptors): the next transport tries again. */
static poller *poller_of(napi_env env) {
  poller *p = NULL;
  napi_get_instance_data(env, (void **)&p);
  if (p != NULL) return p;
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return NULL;
  p = calloc(1, sizeof *p);
  p->env = env;
  p->epfd = epfd;
  napi_value name;
  napi_create_string_utf8(env, "callhook:media-transport", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &p->async);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init(loop, &p->poll, p->epfd);
  p->poll.data = p;
  /* It lives as long as the environment: callhook loads the addon on the main thread only, whose end is the
   * process's. */
  napi_set_instance_data(env, p, NULL, NULL);
  return p;
}

/* The timer's handle closed: everything but the struct goes; the struct itself once JavaScript's external is gone
 * too, so that a call on a closed transport reads "closed" rather than freed memory. */
static void on_handle_closed(uv_handle_t *handle) {
  transport *t = handle->data;
  t->timer_open = 0;
  close(t->fd);
  if (t->on_closed) {
    js_scope scope;
    enter_js(t->owner, &scope);
    call_js(t, t->on_closed, 0, NULL);
    leave_js(t->owner, &scope);
    napi_delete_reference(t->env, t->on_closed);
  }
  if (t->ssl) release_dtls(t);
  if (t->srtp_up) {
    srtp_free(&t->inbound);
    srtp_free(&t->outbound);
  }
  napi_delete_reference(t->env, t->on_stun);
  if (t->on_rtp) napi_delete_reference(t->env, t->on_rtp);
  if (t->on_event) napi_delete_reference(t->env, t->on_event);
  if (t->finalized) free(t);
}

/* The external was collected: a transport never closed is closed now (no JavaScript can reach it any more). */
static void finalize_transport(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  transport *t = data;
  t->finalized = 1;
  if (!t->closing) {
    t->closing = 1;
    release(t);
  } else if (!t->timer_open) {
    free(t);
  }
}

/* Takes the socket out of the epoll set (the last one out stops the polling) and closes the timer's handle; the
 * socket and the memory go when libuv has closed it (on_handle_closed). */
static void release(transport *t) {
  if (t->in_callback || !t->timer_open || uv_is_closing((uv_handle_t *)&t->dtls_timer)) return;
  poller *p = t->owner;
  epoll_ctl(p->epfd, EPOLL_CTL_DEL, t->fd, NULL);
  if (--p->transports == 0) uv_poll_stop(&p->poll);
  uv_timer_stop(&t->dtls_timer);
  uv_close((uv_handle_t *)&t->dtls_timer, on_handle_closed);
}

/* ---- the API ---- */

/* Binds a socket and starts polling it; NULL (with a JavaScript error thrown) when it cannot be bound. */
static transport *open_transport(napi_env env, napi_value address_arg, napi_value port_arg) {
  char address[INET6_ADDRSTRLEN + 1];
  int32_t port;
  struct sockaddr_storage local;
  socklen_t local_len;
  if (!string_arg(env, address_arg, address, sizeof address) || napi_get_value_int32(env, port_arg, &port) != napi_ok ||
      parse_address(address, port, &local, &local_len) != 0) {
    throw_error(env, "MEDIA_NATIVE", "bad address or port");
    return NULL;
  }
  int fd = socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&local, local_len) != 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    throw_error(env, uv_err_name(uv_translate_sys_error(e)), strerror(e));
    return NULL;
  }
  poller *p = poller_of(env);
  transport *t = calloc(1, sizeof *t);
  struct epoll_event interest = {.events = EPOLLIN, .data.ptr = t};
  if (p == NULL || epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &interest) != 0) {
    int e = errno;
    free(t);
    close(fd);
    throw_error(env, uv_err_name(uv_translate_sys_error(e)), strerror(e));
    return NULL;
  }
  t->env = env;
  t->owner = p;
  t->fd = fd;
  t->family = local.ss_family;
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_timer_init(loop, &t->dtls_timer);
  t->dtls_timer.data = t;
  t->timer_open = 1;
  if (p->transports++ == 0) uv_poll_start(&p->poll, UV_READABLE, on_ready);
  return t;
}

static napi_value external_of(napi_env env, transport *t) {
  napi_value external;
  napi_create_external(env, t, finalize_transport, NULL, &external);
  return external;
}

/* open(address, port, onStun(chunk, offset, length, address, port), onRtp(chunk, offset, length), onEvent(kind,
 * detail)) → transport: a browser leg's socket (a datagram is bytes offset to offset + length of chunk: see "Handing
 * up"). Throws an Error whose code is the bind's errno name (EADDRINUSE...). */
static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) return throw_error(env, "MEDIA_NATIVE", "open(address, port, onStun, onRtp, onEvent): bad arguments");
  transport *t = open_transport(env, argv[0], argv[1]);
  if (t == NULL) return NULL;
  napi_create_reference(env, argv[2], 1, &t->on_stun);
  napi_create_reference(env, argv[3], 1, &t->on_rtp);
  napi_create_reference(env, argv[4], 1, &t->on_event);
  return external_of(env, t);
}

/* openUdp(address, port, onDatagram(chunk, offset, length, address?, port?)) → transport: a plain socket (the RTP
 * leg towards SIP), every datagram handed up with its source (none while connected: see hand_up), several per
 * wake-up. */
static napi_value OpenUdp(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) return throw_error(env, "MEDIA_NATIVE", "openUdp(address, port, onDatagram): bad arguments");
  transport *t = open_transport(env, argv[0], argv[1]);
  if (t == NULL) return NULL;
  t->plain = 1;
  napi_create_reference(env, argv[2], 1, &t->on_stun);
  return external_of(env, t);
}

/* connect(transport, address, port): only that source is heard, and send() goes there (symmetric RTP's latch).
 * disconnect(transport): any source again. */
static napi_value Connect(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  transport *t = transport_call(env, info, 3, argv);
  if (t == NULL) return NULL;
  char address[INET6_ADDRSTRLEN + 1];
  int32_t port;
  if (!string_arg(env, argv[1], address, sizeof address) || napi_get_value_int32(env, argv[2], &port) != napi_ok ||
      parse_address(address, port, &t->remote, &t->remote_len) != 0) {
    return throw_error(env, "MEDIA_NATIVE", "connect(transport, address, port): bad arguments");
  }
  if (connect(t->fd, (struct sockaddr *)&t->remote, t->remote_len) != 0) {
    int e = errno;
    t->remote_len = 0;
    return throw_error(env, uv_err_name(uv_translate_sys_error(e)), strerror(e));
  }
  return NULL;
}

static napi_value Disconnect(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  transport *t = transport_call(env, info, 1, argv);
  if (t == NULL) return NULL;
  struct sockaddr unspecified = {.sa_family = AF_UNSPEC};
  connect(t->fd, &unspecified, sizeof unspecified);
  t->remote_len = 0;
  return NULL;
}

/* send(transport, datagram) → undefined, or the errno name of a failed send (ECONNREFUSED: the peer's port is
 * closed), on a connected socket. */
static napi_value Send(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  transport *t = transport_call(env, info, 2, argv);
  if (t == NULL) return NULL;
  void *data;
  size_t len;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) return throw_error(env, "MEDIA_NATIVE", "send(transport, datagram): not a Buffer");
  if (send(t->fd, data, len, MSG_DONTWAIT) >= 0) return NULL;
  napi_value code;
  napi_create_string_utf8(env, uv_err_name(uv_translate_sys_error(errno)), NAPI_AUTO_LENGTH, &code);
  return code;
}

/* localPort(transport) → the bound port (open may be given 0). */
static napi_value LocalPort(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  transport *t = transport_call(env, info, 1, argv);
  if (t == NULL) return NULL;
  struct sockaddr_storage local;
  socklen_t len = sizeof local;
  getsockname(t->fd, (struct sockaddr *)&local, &len);
  napi_value out;
  napi_create_int32(env, ntohs(local.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&local)->sin6_port : ((struct sockaddr_in *)&local)->sin_port), &out);
  return out;
}

/* sendTo(transport, datagram, address, port): STUN responses, to wherever the check came from. */
static napi_value SendTo(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  transport *t = transport_call(env, info, 4, argv);
  if (t == NULL) return NULL;
  void *data;
  size_t len;
  char address[INET6_ADDRSTRLEN + 1];
  int32_t port;
  struct sockaddr_storage to;
  socklen_t to_len;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok || !string_arg(env, argv[2], address, sizeof address) ||
      napi_get_value_int32(env, argv[3], &port) != napi_ok || parse_address(address, port, &to, &to_len) != 0) {
    return throw_error(env, "MEDIA_NATIVE", "sendTo(transport, datagram, address, port): bad arguments");
  }
  sendto(t->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&to, to_len);
  return NULL;
}

/* setRemote(transport, address, port): the pair ICE selected; DTLS and SRTP go there from now on. */
static napi_value SetRemote(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  transport *t = transport_call(env, info, 3, argv);
  if (t == NULL) return NULL;
  char address[INET6_ADDRSTRLEN + 1];
  int32_t port;
  if (!string_arg(env, argv[1], address, sizeof address) || napi_get_value_int32(env, argv[2], &port) != napi_ok ||
      parse_address(address, port, &t->remote, &t->remote_len) != 0) {
    return throw_error(env, "MEDIA_NATIVE", "setRemote(transport, address, port): bad arguments");
  }
  return NULL;
}

static int accept_any_certificate(int ok, X509_STORE_CTX *store) {
  (void)ok;
  (void)store;
  return 1; /* self-signed is the rule (RFC 5763 §5): the fingerprint is checked once the handshake is done */
}

/* context(certificatePem, keyPem) → a DTLS context for every leg that uses this certificate. */
static void free_context(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  SSL_CTX_free(data);
}

static napi_value Context(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char pem[2][8192];
  for (int i = 0; i < 2; i++) {
    if (argc < 2 || !string_arg(env, argv[i], pem[i], sizeof pem[i])) return throw_error(env, "MEDIA_NATIVE", "context(certificatePem, keyPem): bad arguments");
  }
  BIO *cert_bio = BIO_new_mem_buf(pem[0], -1), *key_bio = BIO_new_mem_buf(pem[1], -1);
  X509 *cert = PEM_read_bio_X509(cert_bio, NULL, NULL, NULL);
  EVP_PKEY *key = PEM_read_bio_PrivateKey(key_bio, NULL, NULL, NULL);
  BIO_free(cert_bio);
  BIO_free(key_bio);
  SSL_CTX *ctx = SSL_CTX_new(DTLS_method());
  int ok = cert && key && ctx && SSL_CTX_use_certificate(ctx, cert) == 1 && SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
           SSL_CTX_set_tlsext_use_srtp(ctx, "SRTP_AES128_CM_SHA1_80") == 0;
  X509_free(cert);
  EVP_PKEY_free(key);
  if (!ok) {
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return throw_error(env, "MEDIA_NATIVE", "the DTLS certificate or key could not be loaded");
  }
  SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any_certificate);
  SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU);
  napi_value external;
  napi_create_external(env, ctx, free_context, NULL, &external);
  return external;
}

/* startDtls(transport, context, isServer, expectedSha256Fingerprint): the DTLS role comes from a=setup (RFC 5763
 * §5); a client sends its ClientHello at once, to the pair given to setRemote. */
static napi_value StartDtls(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  transport *t = transport_call(env, info, 4, argv);
  if (t == NULL) return NULL;
  SSL_CTX *ctx = NULL;
  bool server;
  void *fingerprint;
  size_t fingerprint_len;
  if (t->ssl != NULL || t->srtp_up || napi_get_value_external(env, argv[1], (void **)&ctx) != napi_ok ||
      napi_get_value_bool(env, argv[2], &server) != napi_ok ||
      napi_get_buffer_info(env, argv[3], &fingerprint, &fingerprint_len) != napi_ok || fingerprint_len != FINGERPRINT_BYTES) {
    return throw_error(env, "MEDIA_NATIVE", "startDtls(transport, context, isServer, sha256Fingerprint): bad arguments or started twice");
  }
  memcpy(t->expected_fingerprint, fingerprint, FINGERPRINT_BYTES);
  t->ssl = SSL_new(ctx);
  t->from_net = BIO_new(BIO_s_mem());
  t->to_net = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(t->from_net, -1);
  SSL_set_bio(t->ssl, t->from_net, t->to_net);
  SSL_set_mtu(t->ssl, DTLS_MTU);
  if (server) SSL_set_accept_state(t->ssl);
  else SSL_set_connect_state(t->ssl);
  if (!server) drive_dtls(t);
  return NULL;
}

/* sendRtp(transport, packet) → whether it went: protected and sent to the selected pair once DTLS-SRTP is up. */
static napi_value SendRtp(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  transport *t = transport_call(env, info, 2, argv);
  if (t == NULL) return NULL;
  void *data;
  size_t len;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) return throw_error(env, "MEDIA_NATIVE", "sendRtp(transport, packet): not a Buffer");
  bool sent = false;
  if (t->srtp_up && len >= 12) {
    size_t out = protect_rtp(&t->outbound, data, len);
    sent = out > 0 && sendto(t->fd, send_buffer, out, MSG_DONTWAIT, (struct sockaddr *)&t->remote, t->remote_len) >= 0;
  }
  napi_value result;
  napi_get_boolean(env, sent, &result);
  return result;
}

/* dropped(transport) → datagrams dropped: not authentic, replayed, or of no protocol the port carries. */
static napi_value Dropped(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  transport *t = transport_call(env, info, 1, argv);
  if (t == NULL) return NULL;
  napi_value out;
  napi_create_double(env, (double)t->dropped, &out);
  return out;
}

/* close(transport, done): sends DTLS close_notify when up and the SSL not yet released, then lets go of the socket;
 * done() once its port is free (libuv closes handles in a later turn of the loop). Safe to call twice: done is called
 * for the first call only. */
static napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *data = NULL;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL) return throw_error(env, "MEDIA_NATIVE", "not a media transport");
  transport *t = data;
  if (t->closing) return NULL;
  if (argc > 1) napi_create_reference(env, argv[1], 1, &t->on_closed);
  if (t->ssl && t->srtp_up) {
    SSL_shutdown(t->ssl);
    flush_dtls(t);
  }
  t->closing = 1;
  release(t);
  return NULL;
}

static void setup_messages(void) {
  for (int i = 0; i < BATCH; i++) {
    batch_iov[i].iov_base = datagrams[i];
    batch_iov[i].iov_len = MAX_DATAGRAM;
    batch_messages[i].msg_hdr.msg_iov = &batch_iov[i];
    batch_messages[i].msg_hdr.msg_iovlen = 1;
    batch_messages[i].msg_hdr.msg_name = &batch_from[i];
    batch_messages[i].msg_hdr.msg_namelen = sizeof batch_from[i];
  }
}

static napi_value Init(napi_env env, napi_value exports) {
  setup_messages();
  const napi_property_descriptor api[] = {
    {"open", NULL, Open, NULL, NULL, NULL, napi_default, NULL},
    {"openUdp", NULL, OpenUdp, NULL, NULL, NULL, napi_default, NULL},
    {"connect", NULL, Connect, NULL, NULL, NULL, napi_default, NULL},
    {"disconnect", NULL, Disconnect, NULL, NULL, NULL, napi_default, NULL},
    {"send", NULL, Send, NULL, NULL, NULL, napi_default, NULL},
    {"localPort", NULL, LocalPort, NULL, NULL, NULL, napi_default, NULL},
    {"sendTo", NULL, SendTo, NULL, NULL, NULL, napi_default, NULL},
    {"setRemote", NULL, SetRemote, NULL, NULL, NULL, napi_default, NULL},
    {"context", NULL, Context, NULL, NULL, NULL, napi_default, NULL},
    {"startDtls", NULL, StartDtls, NULL, NULL, NULL, napi_default, NULL},
    {"sendRtp", NULL, SendRtp, NULL, NULL, NULL, napi_default, NULL},
    {"dropped", NULL, Dropped, NULL, NULL, NULL, napi_default, NULL},
    {"close", NULL, Close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof api / sizeof api[0], api);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
