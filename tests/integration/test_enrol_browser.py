"""Enrolment mode in real headless Chromium (Debian's, through Playwright): start it
with the password, a card read at the door appears by itself, a reading is written to
a VALT user, the door page says Enrolment, Stop hides every number again."""

from __future__ import annotations

import pytest
from web.helpers import set_admin_password

from . import test_web_browser as page_tests

pytestmark = pytest.mark.integration

# The configuration page's browser fixtures, shared.
chromium = page_tests.chromium
tab = page_tests.tab
shoot = page_tests.shoot
make_site = page_tests.make_site
site = page_tests.site


def test_enrolment_shows_a_read_writes_it_and_stops(site, tab, shoot):
    box, url = site
    set_admin_password(box.folder)
    page_tests.log_in(tab, url)
    tab.goto(url + "enrol")
    tab.fill("#password", page_tests.ADMIN_PASSWORD)
    tab.click("#enrol-start")
    tab.locator("#enrol-waiting").wait_for()
    door = tab.context.new_page()
    door.goto(url + "door")
    door.locator("#enrolment").wait_for(state="visible")
    box.consoles.type("door", "card 0A0B0C0D0E")
    assert box.outcomes.get(timeout=10).result == "enrolment"
    read = tab.locator("#read-1")  # the page's poll reloads it with the read
    read.wait_for()
    marked = read.locator("tr.marked")
    assert marked.locator("td").first.inner_text() == "decimal"
    assert marked.locator("code").inner_text() == "0185339150"
    assert "nobody in VALT has this number" in read.inner_text()
    shoot(tab, "01-enrolment-read")
    read.locator("select[name=user]").select_option("5")
    read.locator("button[type=submit]").click()
    tab.locator("#flash", has_text="Card number of Dev Patel set").wait_for()
    assert box.sim.state.users[5]["card_number"] == "0185339150"
    shoot(tab, "02-enrolment-written")
    tab.click("#enrol-stop")
    tab.locator("#enrol-start").wait_for()
    assert "0185339150" not in tab.content()
    door.locator("#enrolment").wait_for(state="hidden")
