"""Each received message as HTML, the way its client shows it, from the escaped text only.

Everything a message carries is escaped first (it holds event text, written by whoever submits jobs);
the little markup each client understands is then recognised on the escaped text and turned into a
fixed set of tags, so no message can add an element, an attribute or a script to the page.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any, Callable

from .chat import Received

# Named colours of WeCom's <font color> (info, comment, warning) and Feishu's (red, green, grey, ...).
_COLOURS = {
    "info": "#2b9a3e",
    "comment": "#8a8a8a",
    "warning": "#e3760b",
    "red": "#d83931",
    "green": "#2b9a3e",
    "grey": "#8a8a8a",
    "gray": "#8a8a8a",
    "orange": "#e3760b",
    "blue": "#245bdb",
}
_Q = "(?:&quot;|&#x27;)"  # an escaped quote, either kind
_FONT = re.compile(rf"&lt;font color={_Q}?(\w+){_Q}?&gt;(.*?)&lt;/font&gt;")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\[([^\]]*)\]\((https?://[^)\s]+)\)")
_WECOM_AT = re.compile(r"&lt;@([A-Za-z0-9_.\-]+)&gt;")
_FEISHU_AT = re.compile(rf"&lt;at (?:id|user_id)={_Q}?([A-Za-z0-9_.\-]+){_Q}?&gt;(?:[^&]*?)&lt;/at&gt;")
_HEADING = re.compile(r"^#{1,6} ")
_EMOJI = {":warning:": "⚠️", ":rotating_light:": "🚨", ":white_check_mark:": "✅", ":x:": "❌"}
# Feishu card header templates, as the client colours them.
_TEMPLATES = {"red": "#f54a45", "orange": "#ff8800", "blue": "#3370ff", "green": "#34c724", "grey": "#8f959e"}


def esc(value: Any) -> str:
    """Text for HTML content or a quoted attribute."""
    return html.escape(str(value), quote=True)


def _colour(match: re.Match[str]) -> str:
    colour = _COLOURS.get(match.group(1).lower())
    style = f' style="color:{colour}"' if colour else ""
    return f'<span class="font"{style}>{match.group(2)}</span>'


def _link(match: re.Match[str]) -> str:
    return f'<a href="{match.group(2)}" rel="noopener noreferrer" target="_blank">{match.group(1)}</a>'


def _mention(name: str) -> str:
    shown = "所有人" if name in ("all", "@all") else name
    return f'<span class="mention">@{esc(shown)}</span>'


def markdown_inline(escaped: str) -> str:
    """WeCom / DingTalk / Feishu lark_md inline markup on escaped text: bold, code, links, colours, @."""
    text = _FONT.sub(_colour, escaped)
    text = _BOLD.sub(r"<b>\1</b>", text)
    text = _CODE.sub(r"<code>\1</code>", text)
    text = _LINK.sub(_link, text)
    text = _WECOM_AT.sub(lambda m: _mention(m.group(1)), text)
    return _FEISHU_AT.sub(lambda m: _mention(m.group(1)), text)


def _markdown_lines(lines: list[str], inline: Callable[[str], str] = markdown_inline) -> str:
    out = []
    for line in lines:
        escaped = esc(line)
        if _HEADING.match(line):
            out.append(f'<div class="h">{inline(_HEADING.sub("", escaped))}</div>')
        elif escaped.startswith("&gt; "):
            out.append(f'<div class="quote">{inline(escaped[5:])}</div>')
        elif line.startswith("- "):
            out.append(f'<div class="li">• {inline(escaped[2:])}</div>')
        else:
            out.append(f"<div>{inline(escaped) or '&nbsp;'}</div>")
    return "\n".join(out)


def wecom(body: Any) -> str:
    """A WeCom markdown message: one line per newline, <font color>, <@userid> mentions."""
    content = str(((body or {}).get("markdown") or {}).get("content", ""))
    return f'<div class="wecom">{_markdown_lines(content.split(chr(10)))}</div>'


def dingtalk(body: Any) -> str:
    """A DingTalk markdown message: a new line only at a blank line, @ pings from the `at` list."""
    markdown = (body or {}).get("markdown") or {}
    at = (body or {}).get("at") or {}
    pinged = {str(x) for x in [*(at.get("atMobiles") or []), *(at.get("atUserIds") or [])]}

    def inline(escaped: str) -> str:
        text = markdown_inline(escaped)
        return re.sub(
            r"@([0-9A-Za-z_.+\-]+)",
            lambda m: _mention(m.group(1)) if m.group(1) in pinged else m.group(0),
            text,
        )

    paragraphs = [" ".join(p.split("\n")) for p in str(markdown.get("text", "")).split("\n\n")]
    everyone = '<div class="meta">@所有人 (isAtAll)</div>' if at.get("isAtAll") else ""
    return (
        f'<div class="dingtalk"><div class="meta">notification title: {esc(markdown.get("title", ""))}</div>'
        f"{_markdown_lines(paragraphs, inline)}{everyone}</div>"
    )


def feishu(body: Any) -> str:
    """A Feishu interactive card (coloured header, lark_md) or a rich-text post."""
    body = body or {}
    if body.get("msg_type") == "post":
        post = ((body.get("content") or {}).get("post") or {}).get("zh_cn") or {}
        rows = []
        for row in post.get("content") or []:
            parts = []
            for element in row if isinstance(row, list) else []:
                tag = element.get("tag") if isinstance(element, dict) else None
                if tag == "text":
                    parts.append(esc(element.get("text", "")))
                elif tag == "a":
                    href = str(element.get("href", ""))
                    link = f"[{element.get('text', '')}]({href})"
                    parts.append(
                        _LINK.sub(_link, esc(link)) if href.startswith(("http://", "https://")) else esc(link)
                    )
                elif tag == "at":
                    parts.append(_mention(str(element.get("user_id", ""))))
            rows.append(f"<div>{' '.join(parts)}</div>")
        title = esc(post.get("title", ""))
        return f'<div class="feishu post"><div class="title">{title}</div>{"".join(rows)}</div>'
    card = body.get("card") or {}
    header = card.get("header") or {}
    colour = _TEMPLATES.get(str(header.get("template", "")), "#3370ff")
    title = esc((header.get("title") or {}).get("content", ""))
    elements = []
    for element in card.get("elements") or []:
        text = (element.get("text") or {}).get("content", "") if isinstance(element, dict) else ""
        elements.append(_markdown_lines(str(text).split("\n")))
    return (
        f'<div class="feishu card"><div class="card-header" style="background:{colour}">{title}</div>'
        f'<div class="card-body">{"".join(elements)}</div></div>'
    )


def _slack_unescape(text: str) -> str:
    """Slack's three escapes undone (html.unescape would also turn `&region` into `®ion`)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _slack_control(inner: str) -> str:
    """One `<...>` of Slack mrkdwn: a link, a user or a special mention; anything else as written."""
    if inner.startswith("@"):
        return _mention(_slack_unescape(inner[1:]))
    if inner.startswith("!"):
        return _mention(inner[1:].split("|", 1)[0])
    url, _, label = inner.partition("|")
    if url.startswith(("http://", "https://")):
        shown = esc(_slack_unescape(label or url))
        return f'<a href="{esc(_slack_unescape(url))}" rel="noopener noreferrer" target="_blank">{shown}</a>'
    return esc(f"<{_slack_unescape(inner)}>")


def _slack_text(mrkdwn: str) -> str:
    """Slack's own escapes (&amp; &lt; &gt;) undone only inside plain runs, then mrkdwn formatting."""
    out = []
    for n, part in enumerate(re.split(r"<([^<>]*)>", mrkdwn)):
        if n % 2:
            out.append(_slack_control(part))
            continue
        text = esc(_slack_unescape(part))
        text = re.sub(r"\*([^*\n]+)\*", r"<b>\1</b>", text)
        text = re.sub(r"(?<![\w])_([^_\n]+)_(?![\w])", r"<i>\1</i>", text)
        text = re.sub(r"~([^~\n]+)~", r"<s>\1</s>", text)
        text = _CODE.sub(r"<code>\1</code>", text)
        for code, emoji in _EMOJI.items():
            text = text.replace(code, emoji)
        out.append(text)
    return "".join(out).replace("\n", "<br>")


def slack(body: Any) -> str:
    """Slack Block Kit: a header (plain text) and mrkdwn sections; the fallback text without blocks."""
    body = body or {}
    blocks = body.get("blocks") or []
    if not blocks:
        return f'<div class="slack">{_slack_text(str(body.get("text", "")))}</div>'
    out = []
    for block in blocks:
        text = (block.get("text") or {}) if isinstance(block, dict) else {}
        if block.get("type") == "header":
            out.append(f'<div class="slack-header">{esc(text.get("text", ""))}</div>')
        elif text.get("type") == "mrkdwn":
            out.append(f'<div class="slack-section">{_slack_text(str(text.get("text", "")))}</div>')
        else:
            out.append(f'<div class="slack-section">{esc(text.get("text", ""))}</div>')
    return f'<div class="slack">{"".join(out)}</div>'


def webhook(body: Any) -> str:
    """An Alertmanager webhook payload, pretty-printed."""
    return f'<pre class="json">{esc(json.dumps(body, ensure_ascii=False, indent=2))}</pre>'


def message_title(item: Received) -> str:
    """The line a person sees first (the notification's title), as plain text."""
    body = item.body if isinstance(item.body, dict) else {}
    try:
        if item.channel == "wecom":
            first = str(body["markdown"]["content"]).split("\n", 1)[0]
            return first.strip("*")
        if item.channel == "dingtalk":
            return str(body["markdown"]["title"])
        if item.channel == "feishu":
            if body.get("msg_type") == "post":
                return str(body["content"]["post"]["zh_cn"]["title"])
            return str(body["card"]["header"]["title"]["content"])
        if item.channel == "slack":
            return str(body.get("text") or body["blocks"][0]["text"]["text"])
        if item.channel == "webhook":
            alerts = [a for a in body.get("alerts") or [] if isinstance(a, dict)]
            names = sorted({str((a.get("labels") or {}).get("alertname", "")) for a in alerts} - {""})
            groups = body.get("groupLabels") or {}
            what = groups.get("job_id") or groups.get("env_id") or ""
            return f"{body.get('status', '')}: {', '.join(names)} · {what} ({len(alerts)} alert(s))"
    except (KeyError, IndexError, TypeError, AttributeError):
        pass
    return item.raw[:80].decode("utf-8", "replace")


RENDERERS: dict[str, Callable[[Any], str]] = {
    "wecom": wecom,
    "dingtalk": dingtalk,
    "feishu": feishu,
    "slack": slack,
    "webhook": webhook,
}


def render_message(item: Received) -> str:
    """The message as its client shows it; a body the robot could not read, as received."""
    renderer = RENDERERS.get(item.channel)
    if renderer is None or not isinstance(item.body, dict):
        return f'<pre class="json">{esc(item.raw.decode("utf-8", "replace"))}</pre>'
    try:
        return renderer(item.body)
    except (AttributeError, TypeError):  # a body of the wrong shape (the robot refused it): as received
        return webhook(item.body)


_FONT_TAG = re.compile(r"</?font[^>]*>")
_MD_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
_AT = re.compile(r"<@([^>]+)>")


def plain(markdown: str) -> list[str]:
    """Markdown as a person reads it in a terminal: colours and emphasis dropped, links as `text (url)`,
    `<@id>` as `@id`, one line per line."""
    text = _FONT_TAG.sub("", markdown)
    text = _MD_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    text = _AT.sub(lambda m: f"@{m.group(1)}", text).replace("**", "")
    return [line.rstrip() for line in text.split("\n") if line.strip()]


def text_lines(channel: str, body: Any) -> list[str]:
    """A chat body's title and lines as plain text (the webhook's: one line per alert)."""
    body = body if isinstance(body, dict) else {}
    try:
        if channel == "wecom":
            return plain(str(body["markdown"]["content"]))
        if channel == "dingtalk":
            return plain(str(body["markdown"]["text"]).replace("\n\n", "\n"))
        if channel == "feishu" and body.get("msg_type") != "post":
            card = body["card"]
            texts = [str((e.get("text") or {}).get("content", "")) for e in card.get("elements") or []]
            return [str(card["header"]["title"]["content"]), *plain("\n".join(texts))]
        if channel == "slack":
            texts = [str((b.get("text") or {}).get("text", "")) for b in body.get("blocks") or []]
            return plain(_slack_unescape("\n".join(texts) or str(body.get("text", ""))))
        if channel == "webhook":
            return [
                f"{a.get('status')}: {(a.get('labels') or {}).get('alertname')} "
                f"{(a.get('annotations') or {}).get('summary', '')}".rstrip()
                for a in body.get("alerts") or []
                if isinstance(a, dict)
            ]
    except (KeyError, IndexError, TypeError, AttributeError):
        pass
    return [json.dumps(body, ensure_ascii=False)[:200]]
