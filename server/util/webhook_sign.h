/* webhook_sign.h — Standard Webhooks signatures (https://www.standardwebhooks.com): secrets
 * "whsec_" + base64 of the key bytes, and the signature header value
 * "v1," + base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")). */
#ifndef FD_UTIL_WEBHOOK_SIGN_H
#define FD_UTIL_WEBHOOK_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FD_WEBHOOK_SECRET_PREFIX "whsec_"
/* Key sizes accepted in a secret: the specification asks for 24 to 64 bytes. */
#define FD_WEBHOOK_KEY_MIN 24
#define FD_WEBHOOK_KEY_MAX 64
/* "whsec_" + base64 of 64 bytes + NUL */
#define FD_WEBHOOK_SECRET_BUF (6 + 88 + 1)
/* "v1," + base64 of 32 bytes + NUL */
#define FD_WEBHOOK_SIGNATURE_BUF (3 + 44 + 1)

/* Decode a secret into its key; false unless it is "whsec_" + canonical padded base64 of
 * FD_WEBHOOK_KEY_MIN..FD_WEBHOOK_KEY_MAX bytes. key must hold FD_WEBHOOK_KEY_MAX bytes. */
bool fd_webhook_secret_decode(const char *secret, unsigned char *key, size_t *key_len)
    __attribute__((warn_unused_result));

/* A new random secret of 32 key bytes into out[FD_WEBHOOK_SECRET_BUF]; false if the RNG failed. */
bool fd_webhook_secret_new(char out[FD_WEBHOOK_SECRET_BUF]) __attribute__((warn_unused_result));

/* The webhook-signature header value for one delivery attempt. */
void fd_webhook_sign(const unsigned char *key, size_t key_len, const char *msg_id, int64_t timestamp, const char *body,
                     size_t body_len, char out[FD_WEBHOOK_SIGNATURE_BUF]);

#endif
