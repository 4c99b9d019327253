"""webhook_helpers.py — what the webhook tests share (test_webhooks.py, test_readme_integrate.py):
the node receiver (webhook_receiver.mjs, verifying with the `standardwebhooks` npm package),
an independent signature check written out in Python, secrets, and short delivery delays."""

import base64
import hashlib
import hmac
import json
import os
import subprocess

import requests

from helpers import REPO

RECEIVER = os.path.join(os.path.dirname(__file__), "webhook_receiver.mjs")

# short delays so that retries happen within a test; the defaults are documented
FAST = {
    "FEEDBACKD_WEBHOOK_ALLOW_PRIVATE": "true",  # the receiver listens on 127.0.0.1
    "FEEDBACKD_WEBHOOK_POLL_MS": "50",
    "FEEDBACKD_WEBHOOK_RETRY_BASE_MS": "200",
    "FEEDBACKD_WEBHOOK_RETRY_MAX_DELAY_MS": "400",
    "FEEDBACKD_WEBHOOK_TIMEOUT_MS": "1500",
    "FEEDBACKD_WEBHOOK_CONNECT_TIMEOUT_MS": "1000",
}


def new_secret(n=32):
    return "whsec_" + base64.b64encode(os.urandom(n)).decode()


def python_verify(secret, rec):
    """The Standard Webhooks signature check written out here: HMAC-SHA256 with the
    base64-decoded secret over id.timestamp.body, base64, "v1," prefix, any of the
    space-separated signatures."""
    key = base64.b64decode(secret[len("whsec_"):])
    signed = f"{rec['id']}.{rec['timestamp']}.".encode() + rec["body"].encode()
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return expected in rec["signature"].split(" ")


class Receiver:
    def __init__(self):
        self.proc = subprocess.Popen(["node", RECEIVER], cwd=REPO, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line, "the node receiver did not start (is node_modules installed? npm ci)"
        self.port = json.loads(line)["port"]
        self.base = f"http://127.0.0.1:{self.port}"
        self.http = requests.Session()
        self.http.trust_env = False

    def config(self, path, secret=None, mode=None, snippet=None):
        """snippet: JavaScript that verifies a delivery instead of the receiver's own call
        (webhook_receiver.mjs says how it is run); a snippet that does not compile is 400."""
        body = {"path": path, "secret": secret, "mode": mode}
        if snippet is not None:
            body["snippet"] = snippet
        r = self.http.post(self.base + "/_config", json=body, timeout=5)
        assert r.status_code == 204, r.text

    def received(self, path):
        return self.http.get(self.base + "/_received", params={"path": path}, timeout=5).json()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
