"""The inspector page in a real browser: Debian's Chromium, headless, against `gptnb-mock serve`.

The mock runs with the step clock and strict mode; clients (the openai SDK, plain HTTP for
Midjourney) call it while the page watches. Each view is saved as a screenshot at 1280x800 and at a
phone's width in build/inspector/, for people to look at.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
import requests
from websockets.sync.client import connect

from browser import NARROW, WIDE, Browser, Element, Keys, Page
from callback_listener import CallbackListener
from processes import running_server

REPO = Path(__file__).resolve().parent.parent
SHOTS = REPO / "build" / "inspector"
KEY = "sk-inspector"
AUTH = {"Authorization": f"Bearer {KEY}"}
PROMPT = "海边的灯塔 a lighthouse at dusk --ar 3:2"


@pytest.fixture(scope="module")
def serve_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("inspector") / "serve.log"


@pytest.fixture(scope="module")
def mock(serve_log: Path) -> Iterator[str]:
    with running_server(serve_log, "--clock", "step", "--strict") as url:
        yield url


def test_serve_says_where_the_inspector_is(mock: str, serve_log: Path) -> None:
    line = next(line for line in serve_log.read_text().splitlines() if line.startswith("gptnb-mock "))
    assert line.endswith(f"; inspector: {mock}/__mock/ui")
    assert requests.get(line.rsplit(" ", 1)[1], timeout=10).headers["content-type"] == "text/html; charset=utf-8"


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    browser = Browser(tmp_path_factory.mktemp("chromium"))
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture
def page(chromium: Browser, mock: str) -> Page:
    assert requests.post(mock + "/__mock/reset", timeout=10).status_code == 200
    found = Page(chromium, mock, SHOTS)
    found.size(*WIDE)
    return found


@pytest.fixture
def client(mock: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=mock + "/v1", api_key=KEY, max_retries=0)


def journal_rows(page: Page) -> list[dict[str, str]]:
    """The journal table as the page shows it now (read in one go: rows are replaced as calls end)."""
    cells = page.js("return [...document.querySelectorAll('#journal-table tbody tr')].map(r => [...r.cells].map(c => c.innerText.trim()))")
    return [dict(zip(("seq", "time", "method", "path", "status", "ms", "verdict"), row)) for row in cells]


def imagine(mock: str, prompt: str = PROMPT) -> str:
    answer = requests.post(mock + "/mj/submit/imagine", json={"prompt": prompt}, headers=AUTH, timeout=10).json()
    assert answer["code"] == 1, answer
    return answer["result"]


def card(page: Page, task_id: str) -> Element:
    return page.find(f'article.task[data-id="{task_id}"]')


def test_the_journal_shows_calls_as_they_arrive_and_a_streams_events(page: Page, mock: str, client: openai.OpenAI) -> None:
    page.open("journal")
    page.wait(lambda: page.find("#journal-empty").is_displayed(), "the empty journal says so")
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "灯塔在哪里？"}])
    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Stream please"}], stream=True))

    rows = page.wait(lambda: len(journal_rows(page)) == 2 and journal_rows(page), "both calls listed")
    for row in rows:  # newest first
        assert (row["method"], row["status"], row["verdict"]) == ("POST", "200", "✓ conforms")
        assert row["path"].startswith("/v1/chat/completions\nopenai.chat.completions")
    assert int(rows[0]["seq"]) > int(rows[1]["seq"]) and "(event stream)" in rows[0]["path"]
    page.wait(lambda: "…" not in journal_rows(page)[0]["ms"], "the stream's duration once it ended")

    page.find("#journal-table tbody tr").click()
    page.wait(lambda: page.find("#journal-detail").is_displayed())
    assert page.text("#detail-title").endswith("POST /v1/chat/completions")
    events = page.wait(lambda: page.all("#journal-detail .timeline-table tbody tr"))
    assert len(events) == len(chunks) + 1  # and data: [DONE]
    times = [float(page.all("td", row)[1].text) for row in events]
    assert times == sorted(times)
    assert page.all("td", events[-1])[3].text == "[DONE]"
    assert "✓ The answer conforms to openai.chat.completions." in page.text("#journal-detail")
    page.shot("journal-1280x800")
    page.js("document.querySelector('#journal-detail .timeline-table').scrollIntoView()")
    page.shot("journal-events-1280x800")


def test_a_contract_breaking_canned_reply_is_marked_in_words(page: Page, mock: str, client: openai.OpenAI) -> None:
    canned = {"id": "chatcmpl-1", "object": "chat.completion", "choices": "none"}
    requests.post(mock + "/__mock/rules", json={"contract": "openai.chat.completions", "body": canned, "times": 1}, timeout=10)
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "canned"}])
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "fake"}])
    page.open("journal")
    rows = page.wait(lambda: len(journal_rows(page)) == 2 and journal_rows(page))
    assert rows[0]["verdict"] == "✓ conforms" and rows[1]["verdict"].startswith("✗ breaks contract (")

    page.find('#journal-filters input[name="broken"]').click()
    page.wait(lambda: len(journal_rows(page)) == 1, "only the broken answer")
    page.find("#journal-table tbody tr").send_keys(Keys.ENTER)
    violations = page.wait(lambda: page.all("#journal-detail .violations li"))
    assert any("choices" in v.text for v in violations)
    assert "✗ The answer breaks openai.chat.completions" in page.text("#journal-detail .violations")
    assert page.js("return getComputedStyle(document.querySelector('#journal-detail .violations')).borderTopStyle") == "solid"
    page.shot("journal-verdict-1280x800")


def test_a_task_moves_to_100_percent_and_shows_its_image(page: Page, mock: str) -> None:
    task_id = imagine(mock)
    page.open("tasks")
    page.wait(lambda: card(page, task_id).get_attribute("data-status") == "NOT_START")
    assert page.find("progress", card(page, task_id)).get_attribute("value") == "0"

    seen = []
    while not seen or seen[-1] not in ("SUCCESS", "FAILURE"):  # the client's polling loop; each poll is a step
        seen.append(requests.get(f"{mock}/mj/task/{task_id}/fetch", headers=AUTH, timeout=10).json()["status"])
    assert seen[-1] == "SUCCESS"

    page.wait(lambda: card(page, task_id).get_attribute("data-status") == "SUCCESS", "the card reaches SUCCESS")
    task = card(page, task_id)
    assert page.find("progress", task).get_attribute("value") == "100" and page.text(f'article[data-id="{task_id}"] .percent') == "100 %"
    assert page.find(".state", task).text == "✓ SUCCESS"
    steps = page.js("return [...arguments[0].querySelectorAll('.steps li > span')].map(e => e.textContent)", task)
    assert steps[0] == "NOT_START" and steps[-1] == "SUCCESS" and len(steps) == len(seen)
    image = page.find(".previews img", task)
    assert image.get_attribute("src") == f"{mock}/mj/image/{task_id}"
    width = page.wait(lambda: page.js("return arguments[0].complete && arguments[0].naturalWidth", image), "the image preview loads")
    assert width > 0 and page.js("return arguments[0].naturalHeight", image) > 0
    assert page.find("h3", task).text.startswith("midjourney · IMAGINE")
    page.shot("tasks-1280x800")


def test_tasks_are_completed_and_failed_from_their_buttons(page: Page, mock: str) -> None:
    done, failed = imagine(mock, "to complete"), imagine(mock, "to fail")
    page.open("tasks")
    page.wait(lambda: len(page.all("article.task")) == 2)
    page.find("button", card(page, done)).click()
    page.wait(lambda: card(page, done).get_attribute("data-status") == "SUCCESS")
    page.find("input", card(page, failed)).send_keys("禁止的内容")
    page.find("button.danger", card(page, failed)).click()
    page.wait(lambda: card(page, failed).get_attribute("data-status") == "FAILURE")
    assert page.find(".state", card(page, failed)).text == "✗ FAILURE"
    assert page.find(".reason", card(page, failed)).text == "Reason: 禁止的内容"
    assert all(not b.is_enabled() for b in page.all("button", card(page, failed)))
    answer = requests.get(f"{mock}/mj/task/{failed}/fetch", headers=AUTH, timeout=10).json()
    assert (answer["status"], answer["failReason"]) == ("FAILURE", "禁止的内容")
    assert requests.get(f"{mock}/mj/task/{done}/fetch", headers=AUTH, timeout=10).json()["status"] == "SUCCESS"


def test_a_finished_song_plays_from_the_mock_and_nothing_loads_from_elsewhere(page: Page, mock: str) -> None:
    answer = requests.post(mock + "/suno/submit/music", json={"prompt": "一首安静的钢琴曲", "mv": "chirp-v3-5"}, headers=AUTH, timeout=10).json()
    task_id = answer["data"]
    page.open("tasks")
    page.wait(lambda: card(page, task_id).get_attribute("data-status") == "SUBMITTED")
    assert page.all(".previews *", card(page, task_id)) == [], "no previews before the task has finished"
    requests.post(f"{mock}/__mock/tasks/{task_id}/complete", json={}, timeout=10)
    page.wait(lambda: card(page, task_id).get_attribute("data-status") == "SUCCESS")
    task = card(page, task_id)
    audio = page.wait(lambda: page.all(".previews audio", task))
    assert all(a.get_attribute("src").startswith(f"{mock}/__mock/media/audio/") for a in audio)
    playable = page.wait(lambda: page.js("const a = arguments[0]; a.preload = 'auto'; return a.readyState >= 1 && a.duration", audio[0]), "the audio loads")
    assert playable > 0
    elsewhere = [p.text for p in page.all(".previews .elsewhere", task)]
    assert elsewhere and all("https://cdn1.suno.ai/" in text for text in elsewhere)
    loaded = page.js("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and all(url.startswith(mock + "/") for url in loaded), loaded


def test_a_ppt_build_offers_its_deck_for_download(page: Page, mock: str) -> None:
    built = requests.post(mock + "/docmee/v1/api/ppt/directGeneratePptx", json={"subject": "季度回顾", "stream": False, "length": "short"}, headers=AUTH, timeout=30).json()
    ppt_id = built["data"]["pptInfo"]["id"]
    page.open("tasks")
    link = page.wait(lambda: page.all(f'article.task[data-id="{ppt_id}"] .previews a[download]'))[0]
    assert link.text == "⬇ Download the .pptx"
    deck = requests.get(link.get_property("href"), timeout=30)
    assert deck.status_code == 200 and deck.headers["content-type"] == "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    assert deck.content[:2] == b"PK"


def test_a_realtime_sessions_frames_and_a_tasks_callbacks_are_in_the_journal(page: Page, mock: str) -> None:
    with connect(mock.replace("http://", "ws://") + "/v1/realtime?model=gpt-4o-realtime-preview", additional_headers={**AUTH, "OpenAI-Beta": "realtime=v1"}) as session:
        assert json.loads(session.recv(timeout=10))["type"] == "session.created"
        session.recv(timeout=10)  # conversation.created
        session.send(json.dumps({"type": "input_audio_buffer.clear"}))
        assert json.loads(session.recv(timeout=10))["type"] == "input_audio_buffer.cleared"
    with CallbackListener(lambda body: body.get("status") == "SUCCESS") as listener:
        task_id = requests.post(mock + "/mj/submit/imagine", json={"prompt": "a fox", "notifyHook": listener.url}, headers=AUTH, timeout=10).json()["result"]
        while requests.get(f"{mock}/mj/task/{task_id}/fetch", headers=AUTH, timeout=10).json()["status"] != "SUCCESS":
            pass
        assert listener.arrived.wait(30)

    page.open("journal")
    session_row = page.wait(lambda: [r for r in journal_rows(page) if r["path"].startswith("/v1/realtime")])[0]
    assert (session_row["method"], session_row["status"]) == ("GET", "101")
    page.find(f'#journal-table tbody tr[data-seq="{session_row["seq"]}"]').click()
    frames = page.wait(lambda: page.js("return [...document.querySelectorAll('#journal-detail .timeline-table tbody tr')].map(r => [...r.cells].map(c => c.innerText))"))
    assert [(f[2], json.loads(f[3])["type"]) for f in frames] == [
        ("server", "session.created"),
        ("server", "conversation.created"),
        ("client", "input_audio_buffer.clear"),
        ("server", "input_audio_buffer.cleared"),
    ]

    page.open("tasks")
    page.wait(lambda: card(page, task_id).get_attribute("data-status") == "SUCCESS")
    page.find("a[href^='#journal?task=']", card(page, task_id)).click()
    delivered = page.wait(lambda: len(journal_rows(page)) >= len(listener.received) and journal_rows(page), "the task's deliveries")
    assert page.find('#journal-filters input[name="task"]').get_property("value") == task_id
    assert all(r["method"] == "callback" and r["path"].startswith(listener.url) and "attempt 1: HTTP 200" in r["path"] for r in delivered)
    assert len(delivered) == len(listener.received)


def test_a_rule_added_through_the_form_steers_the_next_call(page: Page, mock: str, client: openai.OpenAI) -> None:
    page.open("steering")
    page.wait(lambda: page.find("#rules-empty").is_displayed())
    form = page.find("#rule-form")
    contract = page.find('input[name="contract"]', form)
    contract.clear()
    contract.send_keys("openai.chat.*")
    page.find('input[name="status"]', form).send_keys("429")
    page.find('input[name="message"]', form).send_keys("slow down")
    page.find('input[name="times"]', form).send_keys("1")
    page.find('button[type="submit"]', form).click()
    row = page.wait(lambda: page.all("#rules-table tbody tr") and page.text("#rules-table tbody tr"), "the rule is listed")
    assert "openai.chat.*" in row and "answer 429 “slow down”" in row
    assert [r["contract"] for r in requests.get(mock + "/__mock/rules", timeout=10).json()["rules"]] == ["openai.chat.*"]
    page.shot("steering-1280x800")
    delete = page.find("#rules-table tbody tr button")
    page.js("arguments[0].focus()", delete)
    time.sleep(2.5)  # the view refreshes every second: a focused button must stay where it is
    assert page.focused().get_attribute("aria-label") == delete.get_attribute("aria-label") == f"Delete rule {page.text('#rules-table tbody td')}"

    with pytest.raises(openai.RateLimitError, match="slow down"):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "once"}])
    assert client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "again"}]).choices[0].finish_reason == "stop"
    page.wait(lambda: page.find("#rules-table tbody tr td:nth-child(5)").text == "1", "the rule counts its hit")

    page.find("#rules-table tbody tr button").click()
    page.wait(lambda: page.find("#rules-empty").is_displayed(), "the rule is deleted")
    assert requests.get(mock + "/__mock/rules", timeout=10).json()["rules"] == []


def test_the_clock_is_advanced_and_set_from_the_page(page: Page, mock: str) -> None:
    page.open("steering")
    page.wait(lambda: page.text("#clock-mode") == "step")
    before = requests.get(mock + "/__mock/clock", timeout=10).json()["now"]
    page.find('button[data-advance="3600"]').click()
    page.wait(lambda: "moved 3600 s on" in page.status())
    after = requests.get(mock + "/__mock/clock", timeout=10).json()["now"]
    assert before + 3600 <= after < before + 3600 + 60

    target = int(after) + 86_400
    field = page.find('#clock-set input[name="when"]')
    typed = "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true}))"
    page.js(typed, field, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(target)))
    page.find('#clock-set button[type="submit"]').click()
    page.wait(lambda: "The clock is set to" in page.status())
    now = requests.get(mock + "/__mock/clock", timeout=10).json()["now"]
    assert target <= now < target + 60
    page.wait(lambda: page.text("#clock-iso").startswith(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(now))))


def test_reset_asks_twice(page: Page, mock: str, client: openai.OpenAI) -> None:
    client.models.list()
    page.open("steering")
    button = page.find("#reset")
    button.click()
    assert button.text == "Really reset? Press again"
    assert requests.get(mock + "/__mock/journal", timeout=10).json()["total"] >= 1
    button.click()
    page.wait(lambda: "The mock is reset" in page.status())
    assert requests.get(mock + "/__mock/journal", timeout=10).json()["total"] == 0


def test_contracts_link_the_docs_and_try_a_documented_example(page: Page, mock: str) -> None:
    page.open("contracts/openai.chat.completions")
    page.wait(lambda: page.text("#contract-title") == "POST /v1/chat/completions")
    docs = page.find("#contract-detail a[href*='docs']")
    assert docs.get_property("href") == f"{mock}/__mock/docs#openai.chat.completions"
    example = page.all("#contract-detail .example")[0]
    assert page.find("h5", example).text.startswith("basic")
    page.find("button", example).click()
    answer = page.wait(lambda: "200 OK" in page.find(".answer", example).text and page.find(".answer", example).text)
    assert '"object": "chat.completion"' in answer
    sent = requests.get(mock + "/__mock/journal", timeout=10).json()["calls"][-1]
    assert (sent["contract"], sent["status"], sent["violations"]) == ("openai.chat.completions", 200, [])
    page.shot("contracts-1280x800")

    page.open("contracts/openai.audio.transcriptions")
    upload = next(e for e in page.wait(lambda: page.all("#contract-detail .example")) if "Uploads" in e.text)
    page.find("button", upload).click()
    page.wait(lambda: "200 OK" in page.find(".answer", upload).text, "the multipart example with its documented upload")
    sent = requests.get(mock + "/__mock/journal", timeout=10).json()["calls"][-1]
    assert sent["body"]["file"][0]["filename"] == "tone.wav" and sent["body"]["file"][0]["size"] > 1000

    page.open("contracts")
    page.find("#family-list button[data-family='midjourney']").click()
    listed = page.wait(lambda: page.all("#contract-list li"))
    assert len(listed) == len([c for c in requests.get(mock + "/__mock/contracts", timeout=10).json()["contracts"] if c["family"] == "midjourney"])


def test_the_page_shows_one_namespace_and_switches_to_another(page: Page, mock: str) -> None:
    team = {**AUTH, "X-Mock-Namespace": "team-a"}
    chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "团队 A"}]}
    try:
        assert requests.post(mock + "/v1/chat/completions", json=chat, headers=team, timeout=10).status_code == 200
        task_id = requests.post(mock + "/mj/submit/imagine", json={"prompt": "team a"}, headers=team, timeout=10).json()["result"]
        page.open("journal")
        page.wait(lambda: page.find("#namespace").is_displayed(), "the picker shows once a second namespace is in use")
        assert page.js("return [...document.querySelectorAll('#namespace option')].map(o => o.value)") == ["default", "team-a"]
        page.wait(lambda: page.find("#journal-empty").is_displayed(), "the default namespace has no calls")

        page.find('#namespace option[value="team-a"]').click()
        page.wait(lambda: page.js("return location.pathname + location.hash") == "/__mock/ns/team-a/__mock/ui#journal", "the team's own page")
        rows = page.wait(lambda: len(journal_rows(page)) == 2 and journal_rows(page))
        assert [row["path"].split("\n")[0] for row in rows] == ["/mj/submit/imagine", "/v1/chat/completions"]
        assert page.find("#namespace").get_property("value") == "team-a"
        page.js("location.hash = '#tasks'")
        page.wait(lambda: card(page, task_id).get_attribute("data-status") == "NOT_START", "the team's task")

        page.js("location.hash = '#contracts/openai.chat.completions'")
        example = page.wait(lambda: page.all("#contract-detail .example"))[0]
        page.find("button", example).click()
        page.wait(lambda: "200 OK" in page.find(".answer", example).text)
        sent = requests.get(mock + "/__mock/journal", headers=team, timeout=10).json()["calls"]
        assert len(sent) == 3 and sent[-1]["contract"] == "openai.chat.completions", "an example tried from the team's page lands in the team's namespace"
        assert requests.get(mock + "/__mock/journal", timeout=10).json()["calls"] == []

        page.find('#namespace option[value="default"]').click()
        page.wait(lambda: page.js("return location.pathname") == "/__mock/ui", "back to the default namespace")
    finally:
        requests.delete(mock + "/__mock/namespaces/team-a", timeout=10)


def test_every_view_fits_a_narrow_window(page: Page, mock: str, client: openai.OpenAI) -> None:
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "narrow"}])
    task_id = imagine(mock)
    while requests.get(f"{mock}/mj/task/{task_id}/fetch", headers=AUTH, timeout=10).json()["status"] != "SUCCESS":
        pass
    page.size(*NARROW)
    ready = {
        "journal": "#journal-table tbody tr",
        "tasks": "article.task",
        "steering": "#clock-mode:not(:empty)",
        "contracts/midjourney.submit.imagine": "#contract-detail:not([hidden]) .example",
    }
    for view, shown in ready.items():
        page.open(view)
        page.wait(lambda: page.all(shown), f"{view} shows {shown}")
        if view == "journal":
            page.find("#journal-table tbody tr").click()
            page.wait(lambda: page.find("#journal-detail").is_displayed())
            table, detail = page.find("#journal-table").rect, page.find("#journal-detail").rect
            assert detail["y"] >= table["y"] + table["height"] - 1 and detail["width"] <= NARROW[0]
        if view == "tasks":
            page.wait(lambda: page.js("return document.querySelector('.previews img').naturalWidth") > 0)
        assert page.no_horizontal_scroll(), f"{view} scrolls sideways at {NARROW[0]} px"
        page.shot(f"{view.split('/')[0]}-narrow")


def test_keyboard_reaches_every_view_and_opens_rows(page: Page, mock: str, client: openai.OpenAI) -> None:
    for word in ("first", "second"):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": word}])
    page.open()
    page.wait(lambda: len(page.all("#journal-table tbody tr")) == 2)
    order = []  # from the top of the freshly loaded page
    for _ in range(40):
        page.press(Keys.TAB)
        element = page.focused()
        order.append(element.get_attribute("id") or element.get_attribute("name") or element.tag_name)
        if element.tag_name == "tr":
            break
    assert order[:4] == ["nav-journal", "nav-tasks", "nav-steering", "nav-contracts"]
    assert order.index("family") < order.index("q") < order.index("journal-live") < len(order) - 1
    assert order[-1] == "tr", f"tab order: {order}"
    newest = page.focused()
    assert newest.get_attribute("data-seq") == page.find("#journal-table tbody tr").get_attribute("data-seq")

    page.press(Keys.ARROW_DOWN)
    older = page.focused()
    assert older.tag_name == "tr" and int(older.get_attribute("data-seq")) < int(newest.get_attribute("data-seq"))
    page.press(Keys.ENTER)
    page.wait(lambda: page.focused().get_attribute("id") == "detail-title", "Enter opens the row and moves focus to it")
    assert page.find("#journal-detail").is_displayed() and "second" not in page.text("#journal-detail") and "first" in page.text("#journal-detail")
    page.press(Keys.ESCAPE)
    page.wait(lambda: not page.find("#journal-detail").is_displayed())
    assert page.focused().get_attribute("data-seq") == older.get_attribute("data-seq")

    page.find("#nav-steering").send_keys(Keys.ENTER)  # a link: Enter follows it
    page.wait(lambda: page.find("#steering").is_displayed() and not page.find("#journal").is_displayed())
    assert page.find("#nav-steering").get_attribute("aria-current") == "page"


def test_the_page_loads_nothing_from_elsewhere_and_renders_chinese(page: Page, mock: str) -> None:
    page.open("contracts")
    page.wait(lambda: page.all("#contract-list li"))
    loaded = page.js("return performance.getEntriesByType('resource').map(e => e.name).concat([location.href])")
    assert loaded and all(url.startswith(mock + "/") for url in loaded), loaded
    # Two different characters drawn in the page's font: tofu boxes would look alike, real glyphs do not.
    differ = page.js(
        """
        const font = getComputedStyle(document.body).font;
        const draw = (text) => {
          const canvas = document.createElement('canvas'); canvas.width = 64; canvas.height = 64;
          const context = canvas.getContext('2d'); context.font = font.replace(/\\d+px/, '40px'); context.fillText(text, 4, 48);
          return context.getImageData(0, 0, 64, 64).data.join(',');
        };
        return [draw('灯') !== draw('塔') && draw('灯') !== draw(''), draw('✓') !== draw('✗') && draw('✓') !== draw('')];
        """
    )
    assert differ[0], "Chinese characters render as boxes: install a CJK font (fonts-noto-cjk)"
    assert differ[1], "the verdict symbols render as boxes: install fonts-dejavu-core"
    assert "查询(async-result)" in page.text("#contract-list")
    assert not [m for m in page.console() if "SEVERE" in m or "Refused" in m]


def test_under_the_manual_clock_the_page_moves_a_task_along(chromium: Browser, tmp_path: Path) -> None:
    with running_server(tmp_path / "manual.log", "--clock", "manual") as url:
        manual = Page(chromium, url, SHOTS)
        manual.size(*WIDE)
        task_id = imagine(url)
        progress = []
        for seconds in (0, 2.5, 60):  # a Midjourney grid takes about 5 s of mock time
            if seconds:
                manual.open("steering")
                field = manual.find('#clock-advance input[name="seconds"]')
                field.clear()
                field.send_keys(str(seconds))
                manual.find('#clock-advance button[type="submit"]').click()
                manual.wait(lambda: f"moved {seconds} s on" in manual.status())
            manual.open("tasks")
            progress.append(int(manual.wait(lambda: manual.find("progress", card(manual, task_id)).get_attribute("value"))))
        assert progress[0] == 0 and 0 < progress[1] < 100 and progress[2] == 100, progress
        assert card(manual, task_id).get_attribute("data-status") == "SUCCESS"
        assert manual.wait(lambda: manual.js("const i = document.querySelector('.previews img'); return i && i.complete && i.naturalWidth")) > 0


def test_a_mock_with_an_admin_token_asks_for_it(chromium: Browser, tmp_path: Path) -> None:
    with running_server(tmp_path / "locked.log", "--admin-token", "s3cret-token") as url:
        locked = Page(chromium, url, SHOTS)
        locked.size(*WIDE)
        locked.open("journal", shown=False)
        locked.js("sessionStorage.clear()")
        locked.open("journal", shown=False)
        form = locked.wait(lambda: locked.find("#token-form").is_displayed() and locked.find("#token-form"))
        assert "HTTP 401" in locked.status()
        locked.find("#token", form).send_keys("wrong")
        locked.find("button", form).click()
        locked.wait(lambda: locked.find("#token-form").is_displayed() and "HTTP 401" in locked.status())
        locked.find("#token").send_keys("s3cret-token")
        locked.find("#token-form button").click()
        locked.wait(lambda: locked.find("#journal-empty").is_displayed(), "the journal loads with the token")
        assert locked.js("return sessionStorage.getItem('gptnb-mock.admin-token')") == "s3cret-token"
        assert locked.js("return localStorage.length") == 0
        requests.post(url + "/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}, headers=AUTH, timeout=10)
        locked.wait(lambda: len(journal_rows(locked)) == 1, "the live journal keeps reading with the token")
        locked.find("#forget-token").click()
        locked.wait(lambda: locked.find("#token-form").is_displayed())
        assert locked.js("return sessionStorage.getItem('gptnb-mock.admin-token')") is None
