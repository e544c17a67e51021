"""A post's version as an HTTP entity tag (`ETag`), and If-Match read back into versions."""

from __future__ import annotations

import re

# A strong entity tag whose opaque part is a version number: "3". Weak tags (W/"3") never
# match If-Match, which compares strongly (RFC 9110, 13.1.1).
_VERSION_TAG = re.compile(r'^"([0-9]{1,18})"$')


def etag(version: int) -> str:
    return f'"{version}"'


def versions_named(if_match: str | None) -> frozenset[int] | None:
    """The versions If-Match accepts; None when it accepts any (absent, or `*`).

    A tag that is no version of ours (weak, malformed, another server's) matches nothing,
    so a header naming only such tags is a precondition no post meets.
    """
    if if_match is None or if_match.strip() == "*":
        return None
    tags = (tag.strip() for tag in if_match.split(","))
    return frozenset(int(found[1]) for tag in tags if (found := _VERSION_TAG.match(tag)))
