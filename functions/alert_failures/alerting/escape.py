"""Escaping of event text for each channel's markup: no mention, no link, no layout change can come from it.

Event text (job names, reasons, event vars) is written by whoever submits jobs, so it is treated
as hostile. Markup characters are replaced by look-alike characters rather than backslash-escaped:
the robots' markdown dialects are not documented to honour backslashes, a look-alike renders the
same everywhere, and a test can check that the raw character is gone.
"""

from __future__ import annotations

import re

# Line and paragraph breaks and other control characters would let a value start a new line
# (a heading, a quote, a list item, a fake "Region:" row): they become one space.
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# Invisible characters (zero-width, bidi overrides) can disguise text; they are dropped.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")

# Markup of the markdown dialects (WeCom, DingTalk, Feishu lark_md) and mention triggers
# (`<@id>`, `<at ...>`, `@mobile`). Underscores are kept so that names stay readable: they can
# at worst italicise part of a value, never form a mention or a link.
_MARKDOWN = str.maketrans(
    {
        "<": "‹",
        ">": "›",
        "&": "＆",
        "@": "＠",
        "*": "∗",
        "`": "ˋ",
        "[": "［",
        "]": "］",
        "~": "∼",
        "|": "│",
        "\\": "＼",
    }
)
# Slack mrkdwn: &, < and > are the escapes Slack documents (they stop <!channel>, <@U..>, links);
# the formatting characters get look-alikes as above.
_SLACK_FORMAT = str.maketrans({"*": "∗", "`": "ˋ", "~": "∼", "@": "＠", "|": "│"})


def plain(text: object, limit: int = 0) -> str:
    """One line of visible text: breaks become spaces, invisible characters go; clipped to `limit` chars."""
    value = _INVISIBLE.sub("", _BREAKS.sub(" ", str(text))).strip()
    value = re.sub(r" {2,}", " ", value)
    if limit and len(value) > limit:
        value = value[: max(1, limit - 1)].rstrip() + "…"
    return value


def markdown(text: object, limit: int = 0) -> str:
    """Text for WeCom / DingTalk markdown, Feishu lark_md and Feishu post text."""
    return plain(text, limit).translate(_MARKDOWN)


def slack(text: object, limit: int = 0) -> str:
    """Text for Slack mrkdwn and plain_text objects."""
    value = plain(text, limit).translate(_SLACK_FORMAT)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
