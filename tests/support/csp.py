"""Checks that a rendered page works under the site's Content-Security-Policy: the
header is there with the fixed directives, every inline ``<script>`` and ``<style>``
carries this response's nonce, and no element has an inline event handler
(``onclick=…``), a ``style`` attribute or a ``javascript:`` link (the policy refuses
all three)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

REQUIRED = (
    "default-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
    "form-action 'self'",
)
NOT_SCRIPT = {"application/json", "application/ld+json", "text/template"}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.inline: list[tuple[str, str | None]] = []  # (tag, nonce)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> (inline handler)")
            if name == "style":
                self.problems.append(f"<{tag} style=…> (style attribute)")
            link = (value or "").strip().lower()
            if name in ("href", "src", "action") and link.startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…>")
        kind = (found.get("type") or "").lower()
        if tag == "script" and "src" not in found and kind not in NOT_SCRIPT:
            self.inline.append((tag, found.get("nonce")))
        if tag == "style":
            self.inline.append((tag, found.get("nonce")))


def assert_page_under_csp(response: Any) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    for directive in REQUIRED:
        assert directive in policy, (directive, policy)
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    page = _Page()
    page.feed(response.content.decode())
    assert page.problems == [], page.problems
    nonces = re.findall(r"'nonce-([^']+)'", policy)
    for tag, nonce in page.inline:
        assert nonce is not None, f"an inline <{tag}> without a nonce"
        assert nonces and nonce == nonces[0], f"<{tag}> nonce is not this response's"
