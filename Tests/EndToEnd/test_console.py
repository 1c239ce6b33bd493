"""The operator's console (issue 15) in Debian's Chromium, driven by Playwright, against the real stack.

nginx serves the console from the snippets `livestreamd nginx-config` wrote (with their security
policy); the console calls livestreamd through nginx; ffmpeg publishes to the encoder settings read
off the page; nginx-rtmp makes the live HLS, the thumbnail and the archive the page shows. Each
step leaves a screenshot in the output folder (TEST_OUTPUT, default test-output/ of the tree).
"""
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from conftest import emulated_aws_stack, start_stack
from stack import REPO, binary
from test_pipeline import push

pytestmark = pytest.mark.console

TOKEN = "console-operator-token"
CHROMIUM = "/usr/bin/chromium"  # Debian's package: Playwright downloads no browser
HOSTILE = "<img src=x onerror=alert(1)>"
# Roles a person operates; each must have an accessible name.
CONTROL_ROLES = {"button", "textbox", "searchbox", "spinbutton", "checkbox", "link", "combobox", "Video"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = start_stack(tmp_path_factory, livestream_server_api_tokens=TOKEN)
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def shots():
    folder = Path(os.environ.get("TEST_OUTPUT", REPO / "test-output")) / "console"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


def watched_page(context):
    """A new tab that records what the browser refused (the policy) or failed (`page.problems`) and
    the confirmations it was asked (`page.dialogs`), answered yes only where a test sets `page.accept_dialogs`."""
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" and "Refused" in m.text else None)
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    page.dialogs = []
    page.accept_dialogs = False
    page.on("dialog", lambda d: page.dialogs.append(d.message) or (d.accept() if page.accept_dialogs else d.dismiss()))
    return page


@pytest.fixture
def page(browser, stack):
    """A fresh, watched tab on the console of the module's stack."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.base)
    yield watched_page(context)
    context.close()


def auth():
    return {"Authorization": f"Bearer {TOKEN}"}


def use_token(page, value):
    page.fill("#token", value)
    page.keyboard.press("Enter")


def unnamed_controls(page):
    """Controls whose accessible name, as Chromium computes it for screen readers, is empty."""
    tree = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
    return [(n["role"]["value"], n.get("backendDOMNodeId")) for n in tree
            if not n.get("ignored") and n.get("role", {}).get("value") in CONTROL_ROLES and not n.get("name", {}).get("value", "").strip()]


def assert_fits_a_phone(page, screenshot):
    """At 390 px (a phone held upright) no element runs off the right edge."""
    page.set_viewport_size({"width": 390, "height": 844})
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
        .map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
    page.screenshot(path=screenshot, full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    assert wide == [], f"wider than a phone: {wide[:8]}"


def clock(seconds):
    """The console's m:ss.s."""
    minutes = int(seconds // 60)
    return f"{minutes}:{seconds - 60 * minutes:04.1f}"


def test_the_console_is_served_with_a_strict_policy(stack):
    answer = requests.get(stack.url("/console/"))
    assert answer.status_code == 200 and "text/html" in answer.headers["Content-Type"]
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe" not in policy and f"img-src 'self' {stack.base} blob:;" in policy
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    script = requests.get(stack.url("/console/js/main.js"))
    assert script.status_code == 200 and script.headers["Content-Type"] == "text/javascript"
    assert requests.get(stack.url("/console"), allow_redirects=False).headers["Location"] == "/console/"
    # Nothing outside the console's folder, and no listing.
    assert requests.get(stack.url("/console/../livestreamd.log")).status_code in (400, 404)
    assert requests.get(stack.url("/console/js/")).status_code in (403, 404)


def snippets(tmp_path, **settings):
    """`livestreamd nginx-config` on these settings (LIVESTREAM_ variables): (exit code, locations snippet or stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVESTREAM_")}
    env.update({"LIVESTREAM_" + k.upper(): v for k, v in settings.items()}, LIVESTREAM_SERVER_SOCKET="/run/livestreamd/api.sock")
    out = tmp_path / f"snippets-{len(list(tmp_path.iterdir()))}"
    done = subprocess.run([binary(), "nginx-config", "--out", str(out)], env=env, capture_output=True, text=True, timeout=30)
    return done.returncode, (out / "livestreamd-locations.conf").read_text() if done.returncode == 0 else done.stderr


def policy_sources(locations, directive):
    policy = re.search(r'Content-Security-Policy "([^"]*)"', locations).group(1)
    return next(part.split()[1:] for part in policy.split("; ") if part.startswith(directive + " "))


def test_the_policy_admits_the_configured_media_origins_only(tmp_path):
    aws = dict(media_backend="medialive", cdn_backend="cloudfront", cdn_cloudfront_live_domain="live.example.com",
               archive_backend="s3", archive_s3_public_url="https://vod.example.com:8443/archive")
    code, locations = snippets(tmp_path, **aws)
    assert code == 0, locations
    assert policy_sources(locations, "img-src") == ["'self'", "https://*.amazonaws.com", "https://live.example.com", "https://vod.example.com:8443", "blob:"]
    assert policy_sources(locations, "media-src") == policy_sources(locations, "img-src")
    assert f"alias {REPO}/console/;" in locations, "the source tree's console beside a development build"
    # Local defaults: the live and archive URLs' origin; a path-only archive URL is this site.
    code, locations = snippets(tmp_path, media_local_internal_token="t" * 32, media_local_internal_token_file="/etc/livestreamd/internal.token",
                               media_local_hls_url="https://media.example.org/hls", archive_file_url="/archive")
    assert code == 0, locations
    assert policy_sources(locations, "img-src") == ["'self'", "https://media.example.org", "blob:"]
    # Refused: a URL that would break out of the header, a folder without the console; off means no location.
    code, refused = snippets(tmp_path, **{**aws, "archive_s3_public_url": 'https://a" always; add_header X 1 "/'},
                             server_console_directory=str(tmp_path))
    assert code == 2 and "archive.s3.public_url must be an http or https URL" in refused and "holds no index.html" in refused
    code, locations = snippets(tmp_path, **aws, server_console="false")
    assert code == 0 and "console" not in locations and "Content-Security-Policy" not in locations


def test_an_operators_day(stack, page, shots):
    page.goto(stack.url("/console/"))

    # A wrong token says so, in words.
    use_token(page, "not-the-token")
    expect(page.locator("#error")).to_contain_text("The API token was refused")
    page.screenshot(path=shots / "01-wrong-token.png")

    # The right one, kept for the tab only and never in the address.
    use_token(page, TOKEN)
    expect(page.locator("#error")).to_be_hidden()
    expect(page.get_by_role("heading", name="Streams")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('livestreamd.token')") == TOKEN
    assert page.evaluate("localStorage.length") == 0

    # Create from the keyboard alone.
    page.focus("#new-name")
    page.keyboard.type("Morning show")
    page.keyboard.press("Tab")
    page.keyboard.type("studio A")
    page.keyboard.press("Tab")
    page.keyboard.press("Control+a")
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Morning show")).to_be_visible()
    sid = page.url.rsplit("/", 1)[1]
    created = requests.get(stack.url(f"/streams/{sid}"), headers=auth()).json()
    assert (created["name"], created["description"], created["segment_length"]) == ("Morning show", "studio A", 2)

    # Start; the encoder settings come off the page: server and key, the key hidden until revealed.
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.get_by_role("button", name="Stop", exact=True)).to_be_visible()
    server = page.text_content("#server-1")
    assert page.text_content("#key-1") == "••••••••"
    page.get_by_role("button", name="Copy server 1", exact=True).click()
    assert page.evaluate("navigator.clipboard.readText()") == server
    page.get_by_role("button", name="Reveal key 1", exact=True).click()
    key = page.text_content("#key-1")
    record = requests.get(stack.url(f"/streams/{sid}"), headers=auth()).json()
    assert f"{server}/{key}" == record["rtmp1"]
    page.get_by_role("button", name="Hide key 1", exact=True).click()
    assert key not in page.content()

    started_at = time.time()
    publisher = push(f"{server}/{key}", 24, size="320x240")
    try:
        # Live: the badge, a thumbnail that loads, and a player whose clock runs.
        expect(page.locator("#status .badge.live")).to_contain_text("LIVE P1", timeout=20_000)
        expect(page.locator("#status")).to_contain_text("kb/s", timeout=10_000)
        thumbnail = page.locator("#status img.thumb")
        expect(thumbnail).to_be_visible(timeout=15_000)
        page.wait_for_function("(img) => img.complete && img.naturalWidth === 320", arg=thumbnail.element_handle(), timeout=15_000)
        page.wait_for_function("() => { const v = document.getElementById('player'); return v && v.currentTime > 1; }", timeout=30_000)
        first = page.evaluate("document.getElementById('player').currentTime")
        page.wait_for_function(f"() => document.getElementById('player').currentTime > {first} + 2", timeout=15_000)
        assert page.evaluate("document.getElementById('player').paused") is False
        expect(page.locator("#events")).to_contain_text("stream.started")
        page.screenshot(path=shots / "02-live.png", full_page=True)

        # The list shows it live too, with its picture.
        page.get_by_role("link", name="← All streams").click()
        row = page.locator(f"tr[data-id='{sid}']")
        expect(row.locator(".badge.live")).to_contain_text("LIVE P1")
        page.wait_for_function("(img) => img && img.complete && img.naturalWidth === 320",
                               arg=row.locator("img.thumb").element_handle(), timeout=15_000)
        page.screenshot(path=shots / "03-streams.png", full_page=True)
        page.get_by_role("link", name="Morning show").click()
        publisher.wait(timeout=60)
    finally:
        if publisher.poll() is None:
            publisher.kill()

    # Stop: the session is drawn with the duration start to stop.
    page.get_by_role("button", name="Stop", exact=True).click()
    stopped_at = time.time()
    expect(page.get_by_role("button", name="Start", exact=True)).to_be_visible()
    session = page.locator("article.session")
    expect(session).to_have_count(1, timeout=15_000)
    expect(session.locator(".duration")).not_to_contain_text("unknown")
    listed = requests.get(stack.url(f"/streams/{sid}/sessions"), headers=auth()).json()["sessions"][0]
    assert abs(listed["duration_seconds"] - (stopped_at - started_at)) < 3
    expect(session.locator(".duration")).to_contain_text(f"Duration {clock(listed['duration_seconds'])}")
    expect(session.locator(".duration")).to_contain_text(f"archived {clock(listed['archive']['seconds'])}")
    assert listed["archive"]["seconds"] > 15
    covered = session.locator(".lane.p1 .covered")
    expect(covered).to_have_count(len(listed["pipelines"][0]["covered"]))

    # A clip picked on the timeline with two clicks (start, then end), cut, shown and played.
    timeline = session.locator(".timeline")
    box = timeline.bounding_box()
    timeline.click(position={"x": box["width"] * 0.25, "y": box["height"] / 2})
    timeline.click(position={"x": box["width"] * 0.6, "y": box["height"] / 2})
    start = float(session.locator("input[id^=start-]").input_value())
    end = float(session.locator("input[id^=end-]").input_value())
    total = listed["archive"]["seconds"]
    assert abs(start - total * 0.25) < 0.3 and abs(end - total * 0.6) < 0.3, (start, end, total)
    expect(session.locator(".pick")).to_be_visible()
    session.get_by_role("button", name="Make clip", exact=True).click()
    clip = page.locator("article.session .clip")
    expect(clip).to_have_count(1, timeout=15_000)
    made = requests.get(stack.url(f"/streams/{sid}/sessions"), headers=auth()).json()["sessions"][0]["clips"][0]
    assert made["asked"] == {"start": start, "end": end}
    achieved = made["achieved"]
    achieved_text = f"{clock(achieved['start'])} – {clock(achieved['end'])} ({achieved['end'] - achieved['start']:.2f} s)"
    expect(clip.locator(".achieved")).to_have_text(achieved_text)
    expect(page.locator("article.session p.answer")).to_contain_text(f"achieved {achieved_text}")
    player = clip.locator("video")
    page.wait_for_function("(v) => v.readyState >= 1 && isFinite(v.duration)", arg=player.element_handle(), timeout=20_000)
    duration = player.evaluate("v => v.duration")
    assert abs(duration - (achieved["end"] - achieved["start"])) < 0.6, (duration, achieved)
    player.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("(v) => v.currentTime > 1", arg=player.element_handle(), timeout=15_000)
    page.screenshot(path=shots / "04-session-clip.png", full_page=True)

    # At phone width nothing runs off the side.
    assert_fits_a_phone(page, shots / "05-phone.png")

    assert unnamed_controls(page) == []
    assert TOKEN not in page.url and key not in page.url

    # The session's archive, then the stream, deleted after a confirmation.
    page.accept_dialogs = True
    session.get_by_role("button", name="Delete session archive", exact=True).click()
    expect(page.get_by_text("No sessions yet.")).to_be_visible(timeout=15_000)
    assert requests.get(stack.url(f"/streams/{sid}/sessions"), headers=auth()).json()["sessions"] == []
    page.get_by_role("button", name="Delete stream", exact=True).click()
    expect(page.get_by_role("heading", name="Streams")).to_be_visible()
    assert requests.get(stack.url(f"/streams/{sid}"), headers=auth()).status_code == 404
    assert [d.split("?")[0] for d in page.dialogs] == ["Delete this session's archive and clips", 'Delete the stream "Morning show"']
    assert page.problems == [], "nothing refused by the policy, no script error"


def test_hostile_names_render_as_text(stack, page, shots):
    made = requests.post(stack.url("/streams"), json={"name": HOSTILE, "description": "<b>bold</b>"}, headers=auth()).json()
    try:
        page.goto(stack.url("/console/"))
        use_token(page, TOKEN)
        link = page.get_by_role("link", name=HOSTILE, exact=True)
        expect(link).to_be_visible()
        assert page.locator("img[src=x]").count() == 0 and page.locator("main b").count() == 0
        page.fill("#filter", "onerror")
        expect(page.locator("tbody tr")).to_have_count(1)
        assert_fits_a_phone(page, shots / "06-phone-list.png")
        link.click()
        expect(page.get_by_role("heading", name=HOSTILE, exact=True)).to_be_visible()
        expect(page.get_by_text("<b>bold</b>", exact=True)).to_be_visible()
        page.screenshot(path=shots / "06-hostile-name-page.png")
        assert page.locator("img[src=x]").count() == 0
        assert page.dialogs == [] and page.problems == [], "no alert ran, nothing refused"
        assert unnamed_controls(page) == []
    finally:
        requests.delete(stack.url(f"/streams/{made['id']}"), headers=auth())


def test_a_medialive_picture_is_fetched_with_the_token(tmp_path_factory, browser, shots):
    """MediaLive hands pictures out through the API (which needs the token), not at a public URL."""
    for aws in emulated_aws_stack(tmp_path_factory, livestream_server_api_tokens=TOKEN):
        created = requests.post(aws.url("/streams"), json={"name": "On MediaLive"}, headers=auth()).json()
        sid = created["id"]
        assert requests.post(aws.url(f"/streams/{sid}/start"), headers=auth()).status_code == 200
        context = browser.new_context()
        try:
            page = watched_page(context)
            page.goto(aws.url("/console/"))
            use_token(page, TOKEN)
            picture = page.locator(f"tr[data-id='{sid}'] img.thumb")
            expect(picture).to_be_visible(timeout=30_000)
            page.wait_for_function("(img) => img.complete && img.naturalWidth === 64 && img.src.startsWith('blob:')",
                                   arg=picture.element_handle(), timeout=15_000)
            # MediaLive cannot tell who publishes: the row shows each pipeline's channel state instead.
            expect(page.locator(f"tr[data-id='{sid}']")).to_contain_text("P1 RUNNING", timeout=15_000)
            expect(page.locator(f"tr[data-id='{sid}']")).to_contain_text("P2 RUNNING")
            page.screenshot(path=shots / "07-medialive-picture.png")
            assert page.problems == []
            # Whether an encoder publishes is unknown here: the stream page makes its player at start.
            # (This test stack's policy is the local one, which refuses MediaPackage's origin: not loaded.)
            page.get_by_role("link", name="On MediaLive").click()
            expect(page.locator("#player")).to_have_attribute("src", created["viewer_endpoint"])
        finally:
            context.close()
        assert requests.post(aws.url(f"/streams/{sid}/stop"), headers=auth()).status_code == 200
        assert requests.delete(aws.url(f"/streams/{sid}"), headers=auth()).status_code == 200


def test_the_console_calls_the_api_under_its_prefix(tmp_path_factory, browser):
    """With server.api_prefix the console lives at <prefix>/console/ and finds the API at <prefix>/."""
    prefixed = start_stack(tmp_path_factory, livestream_server_api_prefix="/api")
    context = browser.new_context()
    try:
        assert requests.get(prefixed.url("/api/console"), allow_redirects=False).headers["Location"] == "/api/console/"
        page = context.new_page()
        page.goto(prefixed.url("/api/console/"))
        expect(page.get_by_role("heading", name="Streams")).to_be_visible()
        page.fill("#new-name", "Under a prefix")
        page.get_by_role("button", name="Create stream", exact=True).click()
        expect(page.get_by_role("heading", name="Under a prefix")).to_be_visible()
        assert [s["name"] for s in requests.get(prefixed.url("/api/streams")).json()] == ["Under a prefix"]
        assert requests.get(prefixed.url("/console/")).status_code == 404, "nothing at the unprefixed path"
    finally:
        context.close()
        assert prefixed.stop()[0] == 0


def test_api_errors_show_the_apis_words(stack, page):
    page.goto(stack.url("/console/#/streams/no-such-stream"))
    use_token(page, TOKEN)
    message = requests.get(stack.url("/streams/no-such-stream"), headers=auth()).json()["message"]
    expect(page.locator("#error")).to_have_text(re.compile(re.escape(message)))
