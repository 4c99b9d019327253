/* webhook_sign.c — Standard Webhooks secrets and signatures (see webhook_sign.h). */
#include "util/webhook_sign.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"

bool fd_webhook_secret_decode(const char *secret, unsigned char *key, size_t *key_len) {
  size_t plen = strlen(FD_WEBHOOK_SECRET_PREFIX);
  if (strncmp(secret, FD_WEBHOOK_SECRET_PREFIX, plen) != 0) return false;
  const char *b64 = secret + plen;
  size_t n = strlen(b64);
  if (n == 0 || n % 4 != 0 || n > 4 * ((FD_WEBHOOK_KEY_MAX + 2) / 3)) return false;
  for (size_t i = 0; i < n; i++) {
    char c = b64[i];
    bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    /* '=' only as the last one or two characters */
    if (!alnum && c != '+' && c != '/' && !(c == '=' && i >= n - 2 && (i == n - 1 || b64[n - 1] == '='))) return false;
  }
  unsigned char buf[4 * ((FD_WEBHOOK_KEY_MAX + 2) / 3)];
  int len = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)n);
  if (len < 0) return false;
  /* EVP_DecodeBlock counts the padding as zero bytes */
  len -= (b64[n - 1] == '=') + (b64[n - 2] == '=');
  if (len < FD_WEBHOOK_KEY_MIN || len > FD_WEBHOOK_KEY_MAX) return false;
  memcpy(key, buf, (size_t)len);
  *key_len = (size_t)len;
  return true;
}

bool fd_webhook_secret_new(char out[FD_WEBHOOK_SECRET_BUF]) {
  unsigned char key[32];
  if (!fd_random_bytes(key, sizeof key)) return false;
  strcpy(out, FD_WEBHOOK_SECRET_PREFIX);
  EVP_EncodeBlock((unsigned char *)out + strlen(FD_WEBHOOK_SECRET_PREFIX), key, sizeof key);
  return true;
}

void fd_webhook_sign(const unsigned char *key, size_t key_len, const char *msg_id, int64_t timestamp, const char *body,
                     size_t body_len, char out[FD_WEBHOOK_SIGNATURE_BUF]) {
  /* HMAC() is OpenSSL 3's one-shot interface (HMAC_CTX is deprecated): sign one buffer */
  size_t id_len = strlen(msg_id);
  char *signed_text = malloc(id_len + 1 + 24 + 1 + body_len + 1);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  bool ok = false;
  if (signed_text) {
    int head = sprintf(signed_text, "%s.%lld.", msg_id, (long long)timestamp);
    memcpy(signed_text + head, body, body_len);
    ok = HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)signed_text, (size_t)head + body_len, mac,
              &mac_len) != NULL;
    free(signed_text);
  }
  strcpy(out, "v1,");
  /* an empty signature (out of memory) fails verification: the receiver rejects, we retry */
  if (ok && mac_len == 32) EVP_EncodeBlock((unsigned char *)out + 3, mac, 32);
}
