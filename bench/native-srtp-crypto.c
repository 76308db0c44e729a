/*
 * What native/media-transport.c's SRTP costs per packet in OpenSSL, the way it was done and the way it is done
 * (docs/benchmarks.md "CPU per bridged call: one epoll set, receive chunks, SRTP keyed once"): a 160-byte payload
 * encrypted with AES-128 counter mode re-keyed for each packet's IV, against AES-128-ECB over the packet's counter
 * blocks and an XOR; its HMAC-SHA1 through a reset HMAC context, against a copy of the keyed SHA-1 states.
 *
 *   cc -O2 -Wno-deprecated-declarations bench/native-srtp-crypto.c -lcrypto -o /tmp/srtp-crypto && /tmp/srtp-crypto
 *
 * (libssl-dev's headers; the system's OpenSSL 3, not the one inside Node, which is the same major version.)
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PACKETS 1000000
#define PAYLOAD 160

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* HMAC-SHA1 (RFC 2104) of header and payload from the SHA-1 states after the key XOR ipad and XOR opad. */
static void keyed_sha1(const SHA_CTX *inner, const SHA_CTX *outer, const uint8_t *header, const uint8_t *payload, uint8_t *digest) {
  SHA_CTX c = *inner;
  SHA1_Update(&c, header, 12);
  SHA1_Update(&c, payload, PAYLOAD);
  SHA1_Final(digest, &c);
  c = *outer;
  SHA1_Update(&c, digest, SHA_DIGEST_LENGTH);
  SHA1_Final(digest, &c);
}

/* The same through an HMAC context reset for the packet. */
static void reset_hmac(HMAC_CTX *mac, const uint8_t *header, const uint8_t *payload, uint8_t *digest) {
  unsigned len;
  HMAC_Init_ex(mac, NULL, 0, NULL, NULL);
  HMAC_Update(mac, header, 12);
  HMAC_Update(mac, payload, PAYLOAD);
  HMAC_Final(mac, digest, &len);
}

static void report(const char *what, double start) {
  printf("%-44s %.3f µs per packet\n", what, (seconds() - start) / PACKETS * 1e6);
}

int main(void) {
  uint8_t key[16] = {1}, auth[20] = {2}, iv[16] = {3}, payload[PAYLOAD] = {0}, header[12] = {0x80};
  uint8_t counters[PAYLOAD + 16], keystream[PAYLOAD + 16], pad[64], digest[EVP_MAX_MD_SIZE];
  int n;

  EVP_CIPHER_CTX *ctr = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctr, EVP_aes_128_ctr(), NULL, key, NULL);
  double start = seconds();
  for (int i = 0; i < PACKETS; i++) {
    iv[13] = (uint8_t)i;
    EVP_EncryptInit_ex(ctr, NULL, NULL, NULL, iv);
    EVP_EncryptUpdate(ctr, payload, &n, payload, PAYLOAD);
  }
  report("AES-CM: counter mode re-keyed per IV", start);

  EVP_CIPHER_CTX *ecb = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ecb, EVP_aes_128_ecb(), NULL, key, NULL);
  EVP_CIPHER_CTX_set_padding(ecb, 0);
  start = seconds();
  for (int i = 0; i < PACKETS; i++) {
    iv[13] = (uint8_t)i;
    int blocks = (PAYLOAD + 15) / 16;
    for (int j = 0; j < blocks; j++) {
      memcpy(counters + 16 * j, iv, 14);
      counters[16 * j + 14] = (uint8_t)(j >> 8);
      counters[16 * j + 15] = (uint8_t)j;
    }
    EVP_EncryptUpdate(ecb, keystream, &n, counters, 16 * blocks);
    for (int k = 0; k < PAYLOAD; k++) payload[k] ^= keystream[k];
  }
  report("AES-CM: ECB over the counter blocks", start);

  HMAC_CTX *mac = HMAC_CTX_new();
  HMAC_Init_ex(mac, auth, sizeof auth, EVP_sha1(), NULL);
  start = seconds();
  for (int i = 0; i < PACKETS; i++) reset_hmac(mac, header, payload, digest);
  report("HMAC-SHA1: HMAC context reset per packet", start);

  SHA_CTX inner, outer;
  memset(pad, 0x36, sizeof pad);
  for (int i = 0; i < 20; i++) pad[i] ^= auth[i];
  SHA1_Init(&inner);
  SHA1_Update(&inner, pad, sizeof pad);
  memset(pad, 0x5c, sizeof pad);
  for (int i = 0; i < 20; i++) pad[i] ^= auth[i];
  SHA1_Init(&outer);
  SHA1_Update(&outer, pad, sizeof pad);
  start = seconds();
  for (int i = 0; i < PACKETS; i++) keyed_sha1(&inner, &outer, header, payload, digest);
  report("HMAC-SHA1: keyed SHA-1 states copied", start);

  /* Both MACs must agree, or the figures compare different work. */
  uint8_t reference[EVP_MAX_MD_SIZE];
  reset_hmac(mac, header, payload, reference);
  keyed_sha1(&inner, &outer, header, payload, digest);
  if (memcmp(reference, digest, SHA_DIGEST_LENGTH) != 0) {
    fprintf(stderr, "the two HMAC-SHA1s differ\n");
    return 1;
  }
  EVP_CIPHER_CTX_free(ctr);
  EVP_CIPHER_CTX_free(ecb);
  HMAC_CTX_free(mac);
  return 0;
}
