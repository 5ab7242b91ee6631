"""`make local`: the local cloud's page shows each channel's messages as its client does, escaped."""

from __future__ import annotations

import json
import re
import socket
import struct
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localcloud import LocalCloud, running
from localcloud.chat import robot_urls
from tests.helpers import ROOT
from tools import invoke

CHROMIUM = Path("/usr/bin/chromium")
GROUPS = "events/cmq_topic_alert_groups.json"
TITLES = (
    "[FAILED] Batch job align-reads (job-grp00001)",
    "[ABNORMAL] Batch compute environment gpu-env (env-grp00001)",
    "[INTERRUPTED] Batch job render-4k (job-grp00002)",
)
MENTIONS = {
    "WECOM_MENTIONS": "zhangsan",
    "DINGTALK_MENTIONS": "13800000000,all",
    "FEISHU_MENTIONS": "ou_abc123",
    "SLACK_MENTIONS": "U012ABCDEF",
}


def _event(name: str) -> Any:
    return json.loads((ROOT / name).read_text(encoding="utf-8"))


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - a loopback URL
        return str(answer.read().decode("utf-8"))


def _post(url: str, body: Any) -> None:
    """POST a JSON body to a robot, whatever it answers (a refused message is shown too)."""
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - a loopback URL
            pass
    except urllib.error.HTTPError:
        pass


def _section(html: str, channel: str) -> str:
    """The page's part for one channel."""
    return html.split(f'id="{channel}"', 1)[1].split("</section>", 1)[0]


@pytest.fixture
def page(monkeypatch) -> Iterator[LocalCloud]:
    """The local cloud with its page, after alert_failures ran on three groups (mentions configured)
    and retry_interrupted on an interrupted job."""
    for key, value in MENTIONS.items():
        monkeypatch.setenv(key, value)
    with running(LocalCloud(all_samples=True), page=True) as cloud:
        assert invoke.run_local("alert_failures", _event(GROUPS), cloud=cloud).status == "ok"
        monkeypatch.setenv("FEISHU_MSG_TYPE", "post")
        assert (
            invoke.run_local("alert_failures", _event("events/cmq_topic_job_failed.json"), cloud=cloud).status
            == "ok"
        )
        retry = invoke.run_local(
            "retry_interrupted", _event("events/cmq_topic_job_failed_interrupted.json"), cloud=cloud
        )
        assert retry.status == "ok"
        yield cloud


def test_page_shows_every_message_the_way_its_client_does(page):
    # WHEN the page is fetched
    html = _get(page.base_url + "/")
    # THEN every group's title is there, in every chat channel
    for channel in ("wecom", "dingtalk", "feishu", "slack"):
        part = _section(html, channel)
        assert all(title in part for title in TITLES), channel
    # AND WeCom shows its warning colour and its <@userid> mention
    wecom = _section(html, "wecom")
    assert '<span class="font" style="color:#e3760b">Interrupted: the failed instances are KEPT' in wecom
    assert '<span class="mention">@zhangsan</span>' in wecom
    # AND DingTalk the mobile its `at` list pings, and that it pings everyone
    dingtalk = _section(html, "dingtalk")
    assert '<span class="mention">@13800000000</span>' in dingtalk and "@所有人 (isAtAll)" in dingtalk
    # AND Feishu a card with the red header of an interrupted job, and a post
    feishu = _section(html, "feishu")
    assert 'class="card-header" style="background:#f54a45">[INTERRUPTED] Batch job render-4k' in feishu
    assert 'class="feishu post"' in feishu and '<span class="mention">@ou_abc123</span>' in feishu
    # AND Slack its header block, mrkdwn bold, a link and the member mention
    slack = _section(html, "slack")
    assert '<div class="slack-header">[INTERRUPTED] Batch job render-4k (job-grp00002)</div>' in slack
    assert "<b>Region</b>" in slack and '<span class="mention">@U012ABCDEF</span>' in slack
    assert (
        '<a href="https://console.cloud.tencent.com/batch/job/detail?jobId=job-grp00002&amp;region=ap-shanghai"'
        in slack
    )
    # AND the webhook its Alertmanager JSON, pretty-printed
    assert "&quot;version&quot;: &quot;4&quot;" in _section(html, "webhook")


def test_page_lists_the_api_calls_and_the_settings_to_paste(page):
    html = _get(page.base_url + "/")
    # THEN the Batch calls of the retry are listed, with the tags written
    calls = html.split("Batch and Tag API calls", 1)[1]
    assert "<td>TerminateJob</td>" in calls and "<td>RetryJobs</td>" in calls
    assert "<td>ModifyResourceTags</td>" in calls
    # AND the lines that point a function here
    assert f"WECOM_WEBHOOK_URL={robot_urls(page.base_url)['wecom']}" in html
    assert f"BATCH_ENDPOINT={page.base_url}" in html and "RETRY_LEDGER=memory" in html


def test_page_escapes_whatever_the_messages_carry(page):
    # GIVEN messages whose text tries markup, scripts, handlers and javascript: links on every robot
    urls = robot_urls(page.base_url)
    attack = '<script>alert(1)</script><img src=x onerror=alert(2)>"><b onmouseover=x>'
    _post(
        urls["wecom"],
        {"msgtype": "markdown", "markdown": {"content": f"**{attack}** [x](javascript:alert(3))"}},
    )
    _post(urls["dingtalk"], {"msgtype": "markdown", "markdown": {"title": attack, "text": attack}, "at": {}})
    feishu_post = {"zh_cn": {"title": attack, "content": [[{"tag": "at", "user_id": attack},
                   {"tag": "a", "text": attack, "href": "javascript:alert(4)"}]]}}  # fmt: skip
    _post(urls["feishu"], {"msg_type": "post", "content": {"post": feishu_post}})
    mrkdwn = f"<javascript:alert(5)|{attack}> <@{attack}>"
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": attack}},
              {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}]  # fmt: skip
    _post(urls["slack"], {"text": attack, "blocks": blocks})
    _post(urls["webhook"], {"note": "</pre>" + attack})
    # WHEN the page is fetched
    html = _get(page.base_url + "/")
    # THEN none of it became markup: one script (the page's own), no image, no handler, no javascript: link
    assert html.count("<script") == 1 and "alert(" not in html.split("<script>", 1)[1]
    assert "<img" not in html and "onerror=alert" in html  # shown as text
    assert not re.search(r"<[^>]+\son(error|mouseover)=", html)
    assert 'href="javascript' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_version_changes_when_a_message_arrives(page):
    # GIVEN the version the page reloads on
    before = _get(page.base_url + "/version")
    # WHEN a robot receives a message THEN it changes
    _post(robot_urls(page.base_url)["slack"], {"text": "hello"})
    assert _get(page.base_url + "/version") != before


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_make_local_serves_the_page_on_its_port():
    # GIVEN `python -m localcloud.server --port N`
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "localcloud.server", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        # WHEN the page is fetched THEN it is served, with the settings to paste
        assert first.startswith(f"local cloud on http://127.0.0.1:{port}/")
        html = _get(f"http://127.0.0.1:{port}/")
        assert "batch-events local cloud" in html and f"CMQ_ENDPOINT=http://127.0.0.1:{port}" in html
    finally:
        server.terminate()
        server.wait(timeout=10)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    return subprocess.run(
        [str(CHROMIUM), *flags, *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install -y chromium)")
def test_headless_chromium_shows_the_messages(page, tmp_path):
    # WHEN headless Chromium renders the page
    shot = tmp_path / "page.png"
    url = page.base_url + "/"
    _chromium(f"--screenshot={shot}", "--window-size=1200,1600", url, tmp_path=tmp_path)
    dom = _chromium("--dump-dom", url, tmp_path=tmp_path).stdout
    # THEN the screenshot is a full, non-trivial picture of the page
    data = shot.read_bytes()
    assert _png_size(data) == (1200, 1600) and len(data) > 50_000
    image = pytest.importorskip("PIL.Image").open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 100  # text, cards and colours, not a blank or error page
    # AND the Feishu card's red header of the interrupted job is painted
    red = sum(count for count, rgb in colours if rgb == (0xF5, 0x4A, 0x45))
    assert red > 1000
    # AND the DOM Chromium built holds every group's title, as the HTML served does
    served = _get(url)
    for title in TITLES:
        assert title in dom and title in served
