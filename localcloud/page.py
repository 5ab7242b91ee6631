"""The local cloud's web page: each channel's messages as its client shows them, and the API calls.

Rendered on the server from the fakes' state, escaped throughout; a few lines of script reload the
page when the fakes receive something new (GET /version).
"""

from __future__ import annotations

import json
import time
from typing import Any

from .cloud import LocalCloud
from .loopback import Callback
from .render import esc, message_title, render_message

# The chat clients first; the webhook's JSON is long.
PAGE_ORDER = ("wecom", "dingtalk", "feishu", "slack", "webhook")
CHANNEL_NAMES = {
    "wecom": "WeCom 企业微信",
    "dingtalk": "DingTalk 钉钉",
    "feishu": "Feishu 飞书",
    "slack": "Slack",
    "webhook": "Webhook (Alertmanager)",
}
_HTML = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
_STYLE = """
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;
 background:#f3f4f6;color:#1f2329}
header{background:#1f2329;color:#fff;padding:12px 20px}header h1{font-size:18px;margin:0}
header p{margin:4px 0 0;color:#c9cdd4}main{padding:12px 20px}h2{font-size:16px;margin:18px 0 8px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:12px}
.channel{background:#fff;border-radius:8px;padding:10px;box-shadow:0 1px 2px #0001}
.channel h3{margin:0 0 8px;font-size:15px}.msg{border:1px solid #e5e6eb;border-radius:6px;margin:8px 0;
 padding:8px;overflow-wrap:anywhere}.msg .top{font-size:12px;color:#646a73;margin-bottom:6px}
.ok{color:#2b9a3e;font-weight:600}.refused{color:#d83931;font-weight:600}
.msg .title{font-weight:600;margin-bottom:6px}.mention{color:#245bdb;background:#e1eaff;border-radius:3px;
 padding:0 2px}.quote{border-left:3px solid #dee0e3;padding-left:6px;color:#646a73}.h{font-weight:700}
.meta{font-size:12px;color:#8f959e}code{background:#f2f3f5;padding:0 3px;border-radius:3px}
.card{border:1px solid #dee0e3;border-radius:8px;overflow:hidden}.card-header{color:#fff;padding:8px;
 font-weight:600}.card-body{padding:8px}.slack{border-left:4px solid #611f69;padding-left:8px}
.slack-header{font-size:17px;font-weight:800;margin-bottom:4px}pre{white-space:pre-wrap;margin:0;
 font-size:12px}pre.json{max-height:420px;overflow:auto;background:#f7f8fa;padding:6px}
table{border-collapse:collapse;background:#fff;width:100%}td,th{border-bottom:1px solid #e5e6eb;
 padding:4px 6px;text-align:left;vertical-align:top;font-size:13px}pre.env{background:#fff;padding:8px}
.empty{color:#8f959e}form{display:inline}
"""
_SCRIPT = """
let seen = document.body.dataset.version;
setInterval(() => fetch('/version').then(r => r.text()).then(v => { if (v !== seen) location.reload(); })
  .catch(() => {}), 2000);
"""


def _clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


def _message(item: Any) -> str:
    verdict = '<span class="ok">accepted</span>' if item.accepted else '<span class="refused">refused</span>'
    answer = f" · {esc(item.status)} {esc(item.answer)}" if not item.accepted else ""
    # The chat clients show the title inside the message; a webhook payload has none, so it gets one.
    title = f'<div class="title">{esc(message_title(item))}</div>' if item.channel == "webhook" else ""
    return (
        f'<div class="msg"><div class="top">{_clock(item.at)} · {verdict}{answer}</div>'
        f"{title}{render_message(item)}</div>"
    )


def _channels(cloud: LocalCloud) -> str:
    out = []
    received = list(cloud.chat.received)
    for channel in PAGE_ORDER:
        items = [r for r in received if r.channel == channel]
        body = "".join(_message(r) for r in reversed(items)) or '<p class="empty">no message yet</p>'
        out.append(
            f'<section class="channel" id="{channel}"><h3>{esc(CHANNEL_NAMES[channel])} '
            f'<span class="meta">({len(items)})</span></h3>{body}</section>'
        )
    return f'<div class="grid">{"".join(out)}</div>'


def _calls(cloud: LocalCloud) -> str:
    rows = []
    for call in reversed(list(cloud.api_calls)):
        params = json.dumps(call.params, ensure_ascii=False)
        result = (
            f'<span class="refused">{esc(call.error)}</span>' if call.error else '<span class="ok">ok</span>'
        )
        rows.append(
            f"<tr><td>{_clock(call.at)}</td><td>{esc(call.service)}</td><td>{esc(call.action)}</td>"
            f"<td>{esc(call.region)}</td><td><code>{esc(params[:400])}</code></td><td>{result}</td></tr>"
        )
    if not rows:
        return '<p class="empty">no Batch or Tag call yet</p>'
    head = (
        "<tr><th>time</th><th>API</th><th>action</th><th>region</th><th>parameters</th><th>answer</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def _state(cloud: LocalCloud) -> str:
    jobs = "".join(
        f"<tr><td>{esc(j.job_id)}</td><td>{esc(j.region)}</td><td>{esc(j.state)}</td><td>{j.retries}</td>"
        f"<td>{j.terminations}</td></tr>"
        for j in list(cloud.batch.jobs.values())
    )
    tags = "".join(
        f"<tr><td>{esc(name)}</td><td><code>{esc(json.dumps(values, ensure_ascii=False))}</code></td></tr>"
        for name, values in list(cloud.tag.resources.items())
    )
    queues = "".join(
        f"<tr><td>{esc(q.name)}</td><td>{len(q.messages)}</td></tr>" for q in list(cloud.cmq.queues.values())
    )
    return (
        "<h2>Batch jobs</h2><table><tr><th>job</th><th>region</th><th>state</th><th>retries</th>"
        f"<th>terminations</th></tr>{jobs}</table>"
        f"<h2>Tags</h2><table><tr><th>resource</th><th>tags</th></tr>{tags}</table>"
        f"<h2>Queues</h2><table><tr><th>queue</th><th>messages</th></tr>{queues}</table>"
    )


def env_lines(cloud: LocalCloud) -> str:
    """The settings to paste to point a function at this local cloud."""
    env = cloud.env()
    # The Tag API has no endpoint setting: a function run elsewhere would reach the real one.
    env["RETRY_LEDGER"] = "memory"
    lines = [f"{key}={value}" for key, value in env.items() if value]
    lines.append("# and per function: CMQ_QUEUE_NAME=" + ", ".join(sorted(q for q in cloud.cmq.queues)))
    return "\n".join(lines)


def render_page(cloud: LocalCloud) -> str:
    """The whole page."""
    posted = len(cloud.chat.received)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>batch-events local cloud</title>
<style>{_STYLE}</style></head>
<body data-version="{cloud.version()}">
<header><h1>batch-events local cloud · {esc(cloud.base_url)}</h1>
<p>Batch, Tag, TDMQ-CMQ and five chat robots on loopback: nothing leaves this machine.
{posted} message(s), {len(cloud.api_calls)} API call(s).
<form method="post" action="/reset"><button>clear</button></form></p></header>
<main>
<h2>Messages, as each client shows them</h2>{_channels(cloud)}
<h2>Batch and Tag API calls</h2>{_calls(cloud)}
{_state(cloud)}
<h2>Point your settings here</h2><pre class="env">{esc(env_lines(cloud))}</pre>
</main><script>{_SCRIPT}</script></body></html>"""


def page_routes(cloud: LocalCloud) -> dict[str, Callback]:
    """GET path -> callback: the page and its version."""

    def page(request: Any) -> tuple[int, dict[str, str], str]:
        return 200, dict(_HTML), render_page(cloud)

    def version(request: Any) -> tuple[int, dict[str, str], str]:
        return 200, {"Content-Type": "text/plain", "Cache-Control": "no-store"}, str(cloud.version())

    return {"/": page, "/version": version}


def reset_route(cloud: LocalCloud) -> dict[str, Callback]:
    """POST /reset: forget everything received, then back to the page."""

    def reset(request: Any) -> tuple[int, dict[str, str], str]:
        cloud.reset()
        return 303, {"Location": "/", "Content-Type": "text/plain"}, "cleared"

    return {"/reset": reset}
