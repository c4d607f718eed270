"""The HTML report in a real headless browser (Debian's Chromium driven by Selenium).

The quick suite's reports (the session fixture ``quick_suite``) and the derivations page are opened from the file
system: the index loads, every link is followed, every figure renders (an image decoded to a non-zero size), the
sub-test table sorts and filters, and the browser console shows no error. A screenshot of the index is saved in
``tests/artifacts/`` (CI keeps it). Without a browser the test is skipped, saying why.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def _driver():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver_path = shutil.which("chromedriver")
    if not browser or not driver_path:
        pytest.skip("no headless browser: install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1300,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=options)


def _errors(driver) -> list:
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def test_the_html_report_opens_links_and_renders_in_a_real_browser(quick_suite, tmp_path):
    from rmtverify.cli import main

    folder = quick_suite["good"]
    assert main(["derive", "kappa", "--out", str(folder)]) == 0  # adds derivations.html to the folder
    from rmtverify.reports.markdown import write_index

    write_index(folder, None, 0.0)
    driver = _driver()
    try:
        index = (folder / "index.html").resolve()
        driver.get(index.as_uri())
        assert "validation reports" in driver.title
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "index.png"))
        links = [a.get_attribute("href") for a in driver.find_elements("css selector", "a")]
        pages = [href for href in links if href.endswith(".html")]
        assert len(pages) >= 7, pages  # six claims and the derivations
        assert _errors(driver) == []
        for href in pages:
            driver.get(href)
            assert Path(href.removeprefix("file://")).exists(), href
            images = driver.find_elements("css selector", "img")
            for img in images:
                width = driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img)
                assert width and width > 100, (href, img.get_attribute("alt"))
            tables = driver.find_elements("id", "subtests")
            if tables:  # a ladder claim: its figures and its table of sub-tests (C1 and the derivations have tables of checks)
                assert images, f"{href} shows no figure"
                rows = tables[0].find_elements("css selector", "tbody tr")
                assert rows
                box = driver.find_element("css selector", "input.filter")
                box.send_keys("no-such-row-zzz")
                assert all(not r.is_displayed() for r in rows)
                box.clear()
                box.send_keys(" ")  # an input event; every row shows again for a blank-insensitive query
            assert _errors(driver) == [], (href, _errors(driver))
        driver.get(index.as_uri())
        header = driver.find_elements("css selector", "table#index th")[2]
        header.click()
        assert "sorted" in header.get_attribute("class")
        driver.save_screenshot(str(tmp_path / "index-sorted.png"))
        assert (ARTIFACTS / "index.png").stat().st_size > 10_000
    finally:
        driver.quit()
