"""``X-Tourism-Signature``: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "t.body")>."""

import hashlib
import hmac

from agencies.webhooks import signature_header, verify_signature

SECRET = "whsec_" + "ab" * 32
BODY = b'{"id":"e1","event":"booking.status_changed","data":{"status":"CONFIRMED"}}'
T = 1_800_000_000


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    """The documented construction, recomputed by hand."""
    header = signature_header(SECRET, BODY, timestamp=T)
    expected = hmac.new(
        SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256
    ).hexdigest()
    assert header == f"t={T},v1={expected}"


def test_verifies_with_the_secret_inside_the_tolerance():
    header = signature_header(SECRET, BODY, timestamp=T)
    assert verify_signature(SECRET, header, BODY, now=T)
    assert verify_signature(SECRET, header, BODY.decode(), now=T + 299)
    assert verify_signature(SECRET, header, BODY, tolerance_s=600, now=T + 599)


def test_fails_with_a_wrong_secret():
    header = signature_header(SECRET, BODY, timestamp=T)
    assert not verify_signature("whsec_other", header, BODY, now=T)


def test_fails_with_a_tampered_body():
    header = signature_header(SECRET, BODY, timestamp=T)
    tampered = BODY.replace(b"CONFIRMED", b"CANCELLED")
    assert not verify_signature(SECRET, header, tampered, now=T)
    assert not verify_signature(SECRET, header, BODY + b" ", now=T)


def test_fails_with_an_old_or_future_timestamp():
    """A captured request replayed later is refused, and so is a forged timestamp
    (it is part of what is signed)."""
    header = signature_header(SECRET, BODY, timestamp=T)
    assert not verify_signature(SECRET, header, BODY, now=T + 301)
    assert not verify_signature(SECRET, header, BODY, now=T - 301)
    forged = header.replace(f"t={T}", f"t={T + 3600}")
    assert not verify_signature(SECRET, forged, BODY, now=T + 3600)


def test_malformed_headers_fail():
    good = signature_header(SECRET, BODY, timestamp=T)
    v1 = good.split("v1=")[1]
    for header in ("", "garbage", f"v1={v1}", f"t={T}", f"t=abc,v1={v1}", "t=,v1="):
        assert not verify_signature(SECRET, header, BODY, now=T), header


def test_any_of_several_v1_values_may_match():
    """Room for rotating secrets: one matching v1 is enough."""
    good = signature_header(SECRET, BODY, timestamp=T)
    header = f"t={T},v1={'0' * 64},{good.split(',')[1]}"
    assert verify_signature(SECRET, header, BODY, now=T)
