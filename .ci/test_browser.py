"""The built HTML book, opened page by page in a real (headless) browser.

Run by ``.ci/run`` after ``jupyter-book build``; locally::

    jupyter-book build . && python -m pytest .ci/test_browser.py

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them) and the
``selenium`` package. Checks, on every page of the book: MathJax typeset every equation
and no raw TeX (``$$``, ``\\begin``) is left visible; every image loaded; the link to the
twin page in the other language leads to it; the interface language is the page's;
each chapter offers its ``.ipynb`` and ``.md`` for download, and has Colab, Binder and
repository buttons pointing at ``repository.url`` of ``_config.yml``.
On every chapter: no code cell (nor the library code it shows) and no formula scrolls
sideways at 1280 px; exercises, solutions, theorems and proofs carry their labels in the page's
language (« Exercice 8.2 », "Solução", "Teorema 2.1", « Démonstration », the toggles of
hidden code « Afficher le code »), numbered per
chapter like its equations ((8.3)); solutions stay hidden until the reader opens them.
Also: the EM animation's controls work, and the search page finds "Kullback" in both
languages. Screenshots of a few pages are kept in ``artifacts/screenshots/``.
"""

from __future__ import annotations

import functools
import http.server
import re
import tempfile
import threading
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "artifacts" / "screenshots"
PAGES = sorted(str(p.relative_to(HTML)) for p in (HTML / "book").rglob("*.html")) if HTML.is_dir() else []
TWIN = {"fr": ("pt", "Ler em português"), "pt": ("fr", "Lire en français")}
ANIMATION_PAGES = ["book/fr/05_em.html", "book/pt/05_em.html"]
SCREENSHOTS = ["book/index.html", "book/fr/index.html", "book/pt/01_data.html", *ANIMATION_PAGES]

# Raw TeX delimiters that MathJax would have replaced, searched in the visible prose
# (code blocks, outputs and typeset math removed).
VISIBLE_PROSE_JS = """
const main = document.querySelector('main') || document.body;
const clone = main.cloneNode(true);
clone.querySelectorAll('pre, code, .highlight, .cell_output, .output, mjx-container, script, style')
     .forEach(e => e.remove());
return clone.innerText;
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def base_url():
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="gmmlab-chromium-")
    for flag in [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--window-size=1280,1000", f"--user-data-dir={profile}",
    ]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def _open(browser, url: str) -> None:
    browser.get(url)
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
    # Wait for MathJax to finish typesetting (when the page loads it).
    browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "if (window.MathJax && MathJax.startup && MathJax.startup.promise)"
        "  { MathJax.startup.promise.then(() => done(true), () => done(false)); } else { done(null); }"
    )


def test_book_was_built():
    assert PAGES, f"no HTML pages under {HTML}: run `jupyter-book build .` first"
    for page in ANIMATION_PAGES + ["book/fr/index.html", "book/pt/index.html"]:
        assert page in PAGES, f"{page} is missing from the built book"


@pytest.mark.parametrize("page", PAGES)
def test_page_renders(browser, base_url, page):
    _open(browser, base_url + page)
    untypeset = browser.execute_script(
        "return [...document.querySelectorAll('.math')]"
        ".filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 60));"
    )
    assert not untypeset, f"{page}: equations not typeset by MathJax: {untypeset[:3]}"
    prose = browser.execute_script(VISIBLE_PROSE_JS)
    for raw in ("$$", "\\begin", "\\(", "\\["):
        assert raw not in prose, f"{page}: raw TeX {raw!r} visible: ...{prose[max(0, prose.find(raw) - 80):][:160]}..."
    # A formula that Markdown broke in two (e.g. a line opening with "+ " read as a list item).
    broken_math = re.search(r"\$\s*\\[A-Za-z]|\\[A-Za-z]+[^$\n]{0,40}\$", prose)
    assert not broken_math, f"{page}: raw TeX visible: ...{prose[max(0, broken_math.start() - 80):][:160]}..."
    broken = browser.execute_script(
        "return [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);"
    )
    assert not broken, f"{page}: images that did not load: {broken}"
    if page in SCREENSHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(SHOTS / page.replace("/", "_").replace(".html", ".png")))


@pytest.mark.parametrize("page", [p for p in PAGES if p.split("/")[1] in TWIN])
def test_language_link_leads_to_twin(browser, base_url, page):
    lang = page.split("/")[1]
    other, text = TWIN[lang]
    _open(browser, base_url + page)
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
    links = browser.find_elements(By.LINK_TEXT, text)
    assert links, f"{page}: no visible link '{text}'"
    links[0].click()
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
    assert browser.current_url == base_url + page.replace(f"book/{lang}/", f"book/{other}/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == other


@pytest.mark.parametrize("page", [p for p in PAGES if p.split("/")[-1][:2].isdigit()])
def test_chapter_offers_ipynb_and_md_downloads(browser, base_url, page):
    import urllib.request

    _open(browser, base_url + page)
    links = {
        a.get_attribute("href").rsplit(".", 1)[-1]: a.get_attribute("href")
        for a in browser.find_elements(By.CSS_SELECTOR, ".dropdown-download-buttons a")
        if "_sources/" in (a.get_attribute("href") or "")
    }
    assert {"ipynb", "md"} <= set(links), f"{page}: download menu offers {sorted(links)}"
    for url in links.values():
        with urllib.request.urlopen(url) as response:
            assert response.status == 200 and response.read(), url


@pytest.mark.parametrize("page", [p for p in PAGES if p.split("/")[-1][:2].isdigit()])
def test_chapter_has_launch_and_repository_buttons(browser, base_url, page):
    import yaml

    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    owner_repo = repository.split("github.com/")[-1]
    _open(browser, base_url + page)
    hrefs = [a.get_attribute("href") or "" for a in browser.find_elements(By.CSS_SELECTOR, "a")]
    notebook = page.replace(".html", ".ipynb")
    assert f"https://colab.research.google.com/github/{owner_repo}/blob/main/{notebook}" in hrefs, page
    assert any(h.startswith(f"https://mybinder.org/v2/gh/{owner_repo}/main") and notebook in h for h in hrefs), page
    assert repository in hrefs, f"{page}: no repository button to {repository}"


@pytest.mark.parametrize("page", ANIMATION_PAGES)
def test_em_animation_controls(browser, base_url, page):
    _open(browser, base_url + page)
    buttons = browser.find_elements(By.CSS_SELECTOR, ".animation .anim-buttons button")
    assert len(buttons) >= 5, f"{page}: EM animation controls missing ({len(buttons)} buttons)"
    frame = browser.find_element(By.CSS_SELECTOR, ".animation img")
    first = frame.get_attribute("src")
    assert browser.execute_script("return arguments[0].naturalWidth", frame) > 0
    # The "next frame" button (matplotlib's jshtml: first, previous, reverse, pause, play, next, last).
    browser.execute_script("arguments[0].click()", buttons[-2])
    assert frame.get_attribute("src") != first, f"{page}: the animation did not advance"


def test_search_finds_kullback_in_both_languages(browser, base_url):
    _open(browser, base_url + "search.html?q=Kullback")
    WebDriverWait(browser, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results li a")
    )
    hrefs = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#search-results li a")]
    assert any("/book/fr/" in h for h in hrefs), hrefs
    assert any("/book/pt/" in h for h in hrefs), hrefs


CHAPTERS = [p for p in PAGES if p.split("/")[-1][:2].isdigit()]
#: The words sphinx-exercise and sphinx-proof must write on each language's pages.
LABELS = {
    "fr": {"exercise": "Exercice", "solution": "Solution", "proof": "Démonstration.",
           "prf": ("Théorème", "Lemme", "Proposition", "Corollaire", "Définition")},
    "pt": {"exercise": "Exercício", "solution": "Solução", "proof": "Demonstração.",
           "prf": ("Teorema", "Lema", "Proposição", "Corolário", "Definição")},
}


@pytest.mark.parametrize("page", CHAPTERS)
def test_code_fits_the_page(browser, base_url, page):
    _open(browser, base_url + page)
    wide = browser.execute_script(
        "return [...document.querySelectorAll('main .highlight pre')]"
        ".filter(p => p.offsetParent !== null && p.scrollWidth > p.clientWidth + 1)"
        ".map(p => p.textContent.split('\\n').sort((a, b) => b.length - a.length)[0].slice(0, 100));"
    )
    assert not wide, f"{page}: code that scrolls sideways at 1280 px, e.g. {wide[:3]}"


@pytest.mark.parametrize("page", CHAPTERS)
def test_formulas_fit_the_page(browser, base_url, page):
    """No displayed formula scrolls sideways, no inline one runs out of its box (solutions open)."""
    import time

    _open(browser, base_url + page)
    browser.execute_script("document.querySelectorAll('main div.solution .admonition-title')"
                           ".forEach(t => t.click());")
    time.sleep(1)
    wide = browser.execute_script("""
        const out = [];
        document.querySelectorAll('main article mjx-container').forEach(c => {
          const text = (c.parentElement.textContent || '').trim().slice(0, 60);
          if (c.getAttribute('display') === 'true') {
            if (c.scrollWidth > c.clientWidth + 1) out.push(['display', text]);
          } else {
            const host = c.closest('.admonition, .proof, .exercise, .solution')
                         || document.querySelector('main article');
            if (c.getBoundingClientRect().right > host.getBoundingClientRect().right + 1)
              out.push(['inline', text]);
          }
        });
        return out;""")
    assert not wide, f"{page}: formulas wider than the page at 1280 px: {wide[:4]}"


@pytest.mark.parametrize("page", CHAPTERS)
def test_exercises_and_theorems_in_page_language(browser, base_url, page):
    lang, number = page.split("/")[1], int(page.split("/")[-1][:2])
    words = LABELS[lang]
    _open(browser, base_url + page)
    found = browser.execute_script("""
        const title = e => (e.querySelector('.admonition-title') || {textContent: ''}).textContent.trim();
        return {
          exercises: [...document.querySelectorAll('main div.exercise')].map(title),
          solutions: [...document.querySelectorAll('main div.solution')].map(title),
          theorems: [...document.querySelectorAll('main div.proof')]
                      .filter(e => e.querySelector(':scope > .admonition-title')).map(title),
          proofs: [...document.querySelectorAll('main div.proof')]
                      .filter(e => !e.querySelector(':scope > .admonition-title'))
                      .map(e => e.textContent.trim()),
          equations: [...document.querySelectorAll('main span.eqno')].map(e => e.firstChild.textContent),
          toggles: [...document.querySelectorAll('main details.hide > summary > p.collapsed')].map(e => e.textContent.trim()),
          references: [...document.querySelectorAll('main a.reference.internal')]
                      .filter(a => /#(fr|pt)-(thm|lem|prop|cor)-/.test(a.getAttribute('href') || ''))
                      .map(a => a.textContent.trim()),
        };""")
    numbered = rf"{number}\.\d+"
    if number >= 2:
        assert len(found["exercises"]) >= 4, f"{page}: {len(found['exercises'])} exercises"
    for t in found["exercises"]:
        assert re.match(rf"{words['exercise']} {numbered}\b", t), f"{page}: exercise titled {t!r}"
    assert len(found["solutions"]) == len(found["exercises"]), f"{page}: {found['solutions']}"
    assert all(t == words["solution"] for t in found["solutions"]), f"{page}: {found['solutions']}"
    for t in found["theorems"]:
        assert re.match(rf"({'|'.join(words['prf'])}) {numbered}\b", t), f"{page}: theorem titled {t!r}"
    for t in found["proofs"]:
        assert t.startswith(words["proof"]), f"{page}: proof opening with {t[:30]!r}"
    allowed = {"fr": {"Afficher le code", "Afficher la sortie", "Afficher la cellule"},
               "pt": {"Mostrar o código", "Mostrar a saída", "Mostrar a célula"}}[lang]
    assert set(found["toggles"]) <= allowed, f"{page}: hidden-cell toggles worded {set(found['toggles'])}"
    lower = "|".join(w.lower() for w in words["prf"])
    for t in found["references"]:  # « le théorème 2.1 », as in a sentence
        assert re.match(rf"({lower}) \d+\.\d+$", t), f"{page}: a reference to a theorem reads {t!r}"
    for t in found["equations"]:
        assert re.fullmatch(rf"\({numbered}\)", t.strip()), f"{page}: equation numbered {t!r}"


@pytest.mark.parametrize("page", [p for p in CHAPTERS if int(p.split("/")[-1][:2]) >= 2][:2])
def test_solutions_hidden_until_opened(browser, base_url, page):
    _open(browser, base_url + page)
    solution = browser.find_element(By.CSS_SELECTOR, "main div.solution")
    body = solution.find_element(By.CSS_SELECTOR, "section")
    assert not body.is_displayed(), f"{page}: a solution is visible before the reader opens it"
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", solution)
    browser.execute_script("arguments[0].click()", solution.find_element(By.CSS_SELECTOR, ".admonition-title"))
    WebDriverWait(browser, 10).until(lambda d: body.is_displayed())
