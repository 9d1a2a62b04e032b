"""The DIP's offline viewer opened in Debian's chromium (Playwright, the system browser: nothing is downloaded):
the phone's owner on one side and everyone else on the other, names on every bubble, a voice note that the
browser loads in an <audio> element, and a filter that hides empty days and says how many messages it shows."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest
from media_factory import ffmpeg

from access.viewer import ViewerRecord, render_html
from kernel.model import Attachment, Conversation, Custodian, Message, MessageKind, Source, participants_of
from tests.web_server import chromium

ALDERMEN = ("Wethouder Bakker", "Wethouder Claes", "Wethouder Dekker")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One chromium for the module (its start is the slow part)."""
    with chromium() as launched:
        yield launched


def group_chat() -> Conversation:
    """A group chat from the phone of the burgemeester ("Ik" in the export) with three aldermen, over two days."""
    start = datetime(2024, 3, 14, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    lines = [("Ik", "Goedemorgen, het marktplein staat vanmiddag op de agenda."),
             (ALDERMEN[0], "Ik heb de stukken over het marktplein gelezen."),
             (ALDERMEN[1], "Prima."),
             (ALDERMEN[2], ""),
             ("Ik", "Dank allemaal."),
             (ALDERMEN[0], "Morgen verder over de begroting.")]
    messages = []
    for n, (sender, text) in enumerate(lines, start=1):
        day = timedelta(days=1) if n >= 5 else timedelta()
        voice = (Attachment("voice.opus", True, "audio/ogg"),) if not text else ()
        messages.append(Message(n + (3 if n >= 5 else 0), start + day + timedelta(minutes=n), sender,
                                MessageKind.MEDIA if voice else MessageKind.TEXT, text, voice))
    conversation = Conversation(Source("whatsapp", "ios", "nl", "Europe/Amsterdam"), participants_of(messages),
                                tuple(messages), "College")
    return conversation.with_custodian(Custodian("A. de Burgemeester", "burgemeester"))


@pytest.fixture(scope="module")
def page(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("dip")
    media = folder / "media"
    media.mkdir()
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "libopus", str(media / "voice.opus"))
    ffmpeg("-i", str(media / "voice.opus"), "-c:a", "flac", str(media / "voice.opus.flac"))
    record = ViewerRecord("GM-2024-001", "College", group_chat(), "", {"voice.opus": media / "voice.opus"})
    (folder / "viewer.html").write_text(render_html([record], "Eigen gebruik archief"), encoding="utf-8")
    opened = browser.new_page()
    opened.goto((folder / "viewer.html").as_uri())
    yield opened
    opened.close()


def test_the_owner_is_on_one_side_and_every_alderman_on_the_other_with_names(page: Any) -> None:
    bubbles = page.locator(".msg")
    sides = {}
    for index in range(bubbles.count()):
        bubble = bubbles.nth(index)
        name = bubble.locator(".who").inner_text()
        sides.setdefault(name, set()).add(round(bubble.bounding_box()["x"]))
    assert set(sides) == {"A. de Burgemeester", *ALDERMEN}  # the export's "Ik" is the custodian, by name
    (owner_x,) = sides["A. de Burgemeester"]
    others = set().union(*(sides[name] for name in ALDERMEN))
    assert len(others) == 1 and owner_x > others.pop()  # all three aldermen left, the owner alone right
    assert "houder toestel of account: A. de Burgemeester (burgemeester)" in page.locator(".meta").inner_text()


def test_a_voice_note_plays_in_an_audio_element(page: Any) -> None:
    audio = page.locator("audio")
    assert audio.count() == 1
    assert audio.get_attribute("src") == "media/voice.opus.flac"  # the preservation copy every browser plays
    duration = page.evaluate("""() => new Promise(done => { const a = document.querySelector('audio');
        if (a.readyState >= 1) { done(a.duration); return; }
        a.addEventListener('loadedmetadata', () => done(a.duration)); a.addEventListener('error', () => done(-1));
        a.load(); })""")
    assert duration > 0.5  # loaded from the DIP's folder: the page's Content-Security-Policy lets media in


def test_the_filter_hides_empty_days_and_counts_what_it_shows(page: Any) -> None:
    count = page.locator(".count")
    days = page.locator(".dayblock")
    assert count.inner_text() == "6 berichten" and days.count() == 2
    assert page.locator(".gap").first.inner_text() == "— 3 berichten niet opgenomen —"
    page.fill("#filter", "marktplein")
    assert count.inner_text() == "2 van 6 berichten"
    assert days.nth(0).is_visible() and not days.nth(1).is_visible()  # the second day has no hit: no heading
    assert page.locator(".msg:visible").count() == 2 and not page.locator(".gap").first.is_visible()
    page.fill("#filter", "begroting")
    assert count.inner_text() == "1 van 6 berichten" and not days.nth(0).is_visible() and days.nth(1).is_visible()
    page.fill("#filter", "")
    assert count.inner_text() == "6 berichten" and page.locator(".msg:visible").count() == 6
