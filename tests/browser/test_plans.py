"""A plan made by a link worker opens from its share link and prints on A4."""

from __future__ import annotations

import io

import pytest

from tests.browser.conftest import signed_in_page, watched_page

pytestmark = pytest.mark.browser


def test_a_plan_opens_from_its_link_and_prints_on_a4(browser, live_server):
    from pypdf import PdfReader

    worker = signed_in_page(browser, live_server, "link_worker", "/assets/sale-walking-group")
    worker.fill("#new-plan-ref", "SP-PRINT-1")
    worker.get_by_role("button", name="Start a plan").click()
    worker.fill("textarea[name=note]", "Ask for Sam at the gate")
    worker.get_by_role("button", name="Save note").click()
    worker.get_by_role("button", name="Make a share link").click()
    link = worker.text_content("code.share-link")
    assert "SP-PRINT-1" in worker.text_content("h1")
    sms = worker.input_value("#sms-text")
    assert len(sms) <= 480 and sms.endswith(link)
    worker.context.close()

    client = watched_page(browser, live_server)  # not signed in
    client.goto(link)
    client.wait_for_selector(".plan-marker")
    assert client.text_content("h1") == "Your activities"
    assert "Ask for Sam at the gate" in client.text_content("main")
    assert client.locator(".plan-marker").count() == 1
    client.emulate_media(media="print")
    assert not client.locator(".site-header").is_visible()
    pdf = client.pdf(format="A4", print_background=True)
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Your activities" in text and "Sale Walking Group" in text
    assert "Ask for Sam at the gate" in text and "Every Tuesday, 10:00 to 12:00" in text
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert abs(float(width) - 595.3) < 1.5 and abs(float(height) - 841.9) < 1.5  # A4, points
    assert "SP-PRINT-1" not in text
    assert client.watch.errors == [] and client.watch.outside_requests == []
    client.context.close()
