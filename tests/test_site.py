"""The site as readers see it: the built book, served locally, in headless Chromium.

One fresh build (into a temporary folder, so a stale `_build/` can never pass), one local
HTTP server on 127.0.0.1 (an ephemeral port), one browser for the whole module. Every page
of `_toc.yml` is checked — the list is read from the toc, so new chapters are covered as
they are added. Screenshots land in `_build/screenshots/`.

Needs Debian's `chromium` and `chromium-driver` (CI installs them, with `fonts-noto-cjk`).
Without them these tests FAIL, on purpose: a site test that skips is a site not tested.

The browser never reaches the internet: `--host-resolver-rules` makes every host except
127.0.0.1 unresolvable, so runs are the same with or without a network, and a page that
depends on an external resource shows it (see IGNORED_CONSOLE_ERRORS).
"""
from __future__ import annotations

import functools
import html.parser
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BUILD_LOG: list[str] = []
SCREENSHOTS = ROOT / "_build" / "screenshots"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))

# Severe console messages we accept, each with its reason. Nothing else is tolerated.
IGNORED_CONSOLE_ERRORS = [
    # A resource on another host failed to load. Offline (and always in this test, see
    # --host-resolver-rules) a CDN script cannot load: the ipywidgets embed manager and
    # require.js on chapters with a widget, MathJax on pages with maths. The page still
    # reads; on the published site, with a network, they load. Local files never match.
    (re.compile(r"^https?://(?!127\.0\.0\.1[:/])\S+ - Failed to load resource: net::ERR_"),
     "external resource, no network in the test"),
]


# --------------------------------------------------------------------------- the toc
def _toc_files(entry) -> list[str]:
    files = []
    if isinstance(entry, dict):
        if "file" in entry:
            files.append(entry["file"])
        for key in ("root", "parts", "chapters", "sections"):
            value = entry.get(key)
            if isinstance(value, str):
                files.append(value)
            elif isinstance(value, list):
                for item in value:
                    files.extend(_toc_files(item))
    return files


def toc_pages() -> list[str]:
    """Every page of _toc.yml, in reading order, as a docname (path without suffix)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    seen = []
    for f in _toc_files(toc):
        name = re.sub(r"\.(md|ipynb)$", "", f.strip("/"))
        if name not in seen:
            seen.append(name)
    return seen


PAGES = toc_pages()


def source_of(page: str) -> Path:
    for suffix in (".ipynb", ".md"):
        if (ROOT / f"{page}{suffix}").exists():
            return ROOT / f"{page}{suffix}"
    raise AssertionError(f"_toc.yml names {page!r} but neither {page}.ipynb nor {page}.md exists")


# pages whose source (prose, code or stored outputs) contains Chinese characters
CJK_PAGES = [p for p in PAGES if re.search(r"[\u4e00-\u9fff]", source_of(p).read_text(encoding="utf-8"))]


def _markdown_of(page: str) -> tuple[str, list[dict]]:
    path = source_of(page)
    if path.suffix == ".md":
        return path.read_text(encoding="utf-8"), []
    nb = json.loads(path.read_text(encoding="utf-8"))
    text = "\n\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return text, nb["cells"]


def _plain(md: str) -> str:
    """Heading markdown → the text a reader sees."""
    md = re.sub(r"\{[a-z:]+\}`([^`<]*?)\s*(<[^>]*>)?`", r"\1", md)  # {doc}`text <target>`
    md = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", md)                # [text](url)
    md = re.sub(r"[`*_]", "", md)
    return " ".join(md.split())


def headings_of(page: str) -> list[tuple[int, str]]:
    """(level, text) of every Markdown heading in a page's source, code fences skipped."""
    text, _ = _markdown_of(page)
    out, fence = [], None
    for line in text.splitlines():
        m = re.match(r"^\s*(`{3,}|~{3,})", line)
        if m:
            if fence is None:
                fence = m.group(1)[0]
            elif m.group(1)[0] == fence:
                fence = None
            continue
        if fence is None:
            h = re.match(r"^(#{1,6})\s+(.+?)\s*#*\s*$", line)
            if h:
                out.append((len(h.group(1)), _plain(h.group(2))))
    return out


def image_outputs_of(page: str) -> int:
    _, cells = _markdown_of(page)
    return sum(1 for c in cells for o in c.get("outputs", [])
               for mime in o.get("data", {}) if mime.startswith("image/"))


def colab_url(page: str) -> str:
    repo = urlsplit(CONFIG["repository"]["url"]).path.strip("/")
    branch = CONFIG["repository"].get("branch", "main")
    return f"https://colab.research.google.com/github/{repo}/blob/{branch}/{page}.ipynb"


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Build the book exactly as `make book` does, into a fresh folder; return its html/."""
    out = tmp_path_factory.mktemp("site")
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build", str(ROOT), "-n", "--keep-going",
         "--path-output", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    html = out / "_build" / "html"
    assert proc.returncode == 0 and (html / "index.html").exists(), f"the book did not build:\n{log[-6000:]}"
    print(f"\nsite built in {time.monotonic() - t0:.1f} s")
    BUILD_LOG.append(log)
    return html


@pytest.fixture(scope="module")
def base_url(site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.fail("The site tests need headless Chromium and its driver: "
                    "`apt-get install -y chromium chromium-driver fonts-noto-cjk` (CI does this). "
                    f"Found chromium={chromium!r}, chromedriver={driver_path!r}.", pytrace=False)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("The site tests need selenium: pip install -r requirements.txt", pytrace=False)

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
                # hermetic: only loopback resolves, every other host fails at once
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "--window-size=1280,1000", "--lang=en-US"]:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: Selenium Manager must not try to download one.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


class Visit:
    """What one page load showed: console messages and the facts the tests check."""

    def __init__(self, page, console, facts):
        self.page, self.console, self.facts = page, console, facts


FACTS_JS = r"""
const text = el => (el.innerText || el.textContent || '').replace(/[#¶]\s*$/, '')
  .replace(/[\u2018\u2019]/g, "'").replace(/[\u201c\u201d]/g, '"')  // Sphinx's smart quotes
  .replace(/\s+/g, ' ').trim();
const main = document.querySelector('main, [role=main]') || document.body;
return {
  title: text({innerText: document.title}),
  h1: [...main.querySelectorAll('h1')].map(text),
  headings: [...main.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(text),
  colab: [...document.querySelectorAll('a[href*="colab.research.google.com"]')].map(a => a.href),
  images: [...document.images].map(i => ({src: i.currentSrc || i.src, complete: i.complete,
                                          w: i.naturalWidth, h: i.naturalHeight})),
  outputImages: main.querySelectorAll('div.cell_output img, div.output img').length,
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  copyButtons: document.querySelectorAll('button.copybtn').length,
  codeCells: main.querySelectorAll('div.cell_input pre, div.highlight pre').length,
};
"""


@pytest.fixture(scope="module")
def visit(browser, base_url):
    cache: dict[str, Visit] = {}

    def load(page: str) -> Visit:
        """Open `page` in the browser (the first load's console and facts are kept)."""
        url = base_url + page + ".html"
        if page in cache:
            if browser.current_url != url:
                browser.get(url)
                browser.execute_script("return document.fonts.ready.then(() => true)")
        else:
            browser.get_log("browser")  # drain what earlier pages left
            browser.get(url)
            browser.execute_script("return document.fonts.ready.then(() => true)")
            time.sleep(0.3)  # let deferred scripts (copy buttons, theme) run and log
            facts = browser.execute_script(FACTS_JS)
            cache[page] = Visit(page, browser.get_log("browser"), facts)
        return cache[page]

    return load


def _severe(console):
    bad = []
    for entry in console:
        if entry.get("level") != "SEVERE":
            continue
        if any(rx.search(entry["message"]) for rx, _why in IGNORED_CONSOLE_ERRORS):
            continue
        bad.append(entry["message"])
    return bad


# --------------------------------------------------------------------------- every page
def test_the_toc_lists_pages():
    assert PAGES and PAGES[0] == yaml.safe_load((ROOT / "_toc.yml").read_text())["root"]
    for page in PAGES:
        source_of(page)


def test_the_build_is_warning_free(site):
    warnings = [l for l in BUILD_LOG[-1].splitlines() if "WARNING" in l or "ERROR" in l]
    assert not warnings, "the build warned (`jupyter-book build . -n -W` would fail):\n" + "\n".join(warnings)


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_console_errors(visit, page):
    errors = _severe(visit(page).console)
    assert not errors, f"{page}: browser console errors:\n" + "\n".join(errors)


@pytest.mark.parametrize("page", PAGES)
def test_page_has_its_title_and_headings(visit, page):
    facts = visit(page).facts
    heads = headings_of(page)
    assert heads and heads[0][0] == 1, f"{page}: the source has no '# Title' first heading"
    title = heads[0][1]
    assert facts["h1"] and facts["h1"][0] == title, f"{page}: rendered h1 {facts['h1']} != {title!r}"
    assert facts["title"].startswith(title), f"{page}: <title> {facts['title']!r} does not start with {title!r}"
    rendered = set(facts["headings"])
    missing = [t for _lvl, t in heads[1:] if t not in rendered]
    assert not missing, f"{page}: headings of the source not on the page: {missing}\nrendered: {sorted(rendered)}"


@pytest.mark.parametrize("page", PAGES)
def test_colab_button_opens_this_notebook(visit, page):
    links = set(visit(page).facts["colab"])
    if source_of(page).suffix != ".ipynb":
        assert not links, f"{page} is not a notebook but has a Colab link: {links}"
        return
    # a.href is the URL a click opens (the browser resolves it, e.g. drops a "/./")
    assert links == {colab_url(page)}, f"{page}: Colab launch link {links or 'missing'}, expected {colab_url(page)}"


@pytest.mark.parametrize("page", PAGES)
def test_every_image_loads(visit, page):
    facts = visit(page).facts
    broken = [i["src"] for i in facts["images"] if not (i["complete"] and i["w"] > 0 and i["h"] > 0)]
    assert not broken, f"{page}: images that did not load: {broken}"
    expected = image_outputs_of(page)
    assert facts["outputImages"] >= expected, (
        f"{page}: the notebook has {expected} image outputs, the page shows {facts['outputImages']}")


# Tofu test. A character the fonts lack is drawn as the same "notdef" box whatever the
# character, so: draw each distinct CJK character of the page, in the element's own
# computed font (so the browser's real fallback chain applies), on a canvas; real glyphs
# give pairwise different bitmaps with ink, and none equals the bitmap of a character no
# font has (U+10FFFD, private use). The DevTools protocol's CSS.getPlatformFontsForNode
# then names the font that actually rendered the text, for the report.
CJK_JS = r"""
const cjk = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/;
const main = document.querySelector('main, [role=main]') || document.body;
const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT,
  {acceptNode: n => cjk.test(n.data) && n.parentElement.offsetParent !== null
                    ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT});
const node = walker.nextNode();
if (!node) return null;
const el = node.parentElement;
el.setAttribute('data-cjk-probe', '1');
const font = getComputedStyle(el).font;
const chars = [...new Set([...main.innerText].filter(c => cjk.test(c)))].slice(0, 12);
const canvas = document.createElement('canvas'); canvas.width = 64; canvas.height = 64;
const ctx = canvas.getContext('2d', {willReadFrequently: true});
const draw = ch => {
  ctx.clearRect(0, 0, 64, 64); ctx.font = font.replace(/\d+(\.\d+)?px/, '40px');
  ctx.textBaseline = 'top'; ctx.fillStyle = '#000'; ctx.fillText(ch, 4, 4);
  const d = ctx.getImageData(0, 0, 64, 64).data;
  let ink = 0, sig = [];
  for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) ink++; sig.push(d[i] > 127 ? 1 : 0); }
  return {ch, ink, sig: sig.join(''), width: ctx.measureText(ch).width};
};
const tofu = draw('\u{10FFFD}');
const glyphs = chars.map(draw);
return {font, text: node.data.trim().slice(0, 40), tofuSig: tofu.sig,
        glyphs: glyphs.map(g => ({ch: g.ch, ink: g.ink, sig: g.sig}))};
"""


@pytest.mark.parametrize("page", CJK_PAGES)
def test_chinese_renders_with_a_cjk_font(browser, visit, page):
    visit(page)
    probe = browser.execute_script(CJK_JS)
    assert probe is not None, f"{page}'s source has Chinese text but the rendered page shows none"
    glyphs = probe["glyphs"]
    blank = [g["ch"] for g in glyphs if g["ink"] == 0]
    tofu = [g["ch"] for g in glyphs if g["sig"] == probe["tofuSig"]]
    distinct = len({g["sig"] for g in glyphs})
    doc = browser.execute_cdp_cmd("DOM.getDocument", {"depth": 0})
    node = browser.execute_cdp_cmd("DOM.querySelector", {"nodeId": doc["root"]["nodeId"],
                                                          "selector": "[data-cjk-probe]"})
    browser.execute_cdp_cmd("CSS.enable", {})
    fonts = browser.execute_cdp_cmd("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
    used = ", ".join(f"{f['familyName']} ({f['glyphCount']} glyphs)" for f in fonts)
    where = f"{page}: {probe['text']!r} in font {probe['font']!r}, rendered with [{used}]"
    assert not blank and not tofu and distinct == len(glyphs), (
        f"{where}: tofu — blank {blank}, notdef boxes {tofu}, {distinct} distinct glyphs of {len(glyphs)}. "
        "Install a CJK font (fonts-noto-cjk).")
    assert fonts, where


def test_some_page_has_chinese(browser, visit):
    found = []
    for page in PAGES:
        visit(page)
        if browser.execute_script(r"return /[\u4e00-\u9fff]/.test(document.body.innerText)"):
            found.append(page)
    assert found, "no page shows Chinese text — the CJK font check checked nothing"


def _ids_of(path: Path, cache={}) -> set[str]:
    if path not in cache:
        class IdParser(html.parser.HTMLParser):
            def __init__(self):
                super().__init__()
                self.ids = set()

            def handle_starttag(self, tag, attrs):
                for k, v in attrs:
                    if k == "id" or (k == "name" and tag == "a"):
                        self.ids.add(v)

        p = IdParser()
        p.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = p.ids
    return cache[path]


@pytest.mark.parametrize("page", PAGES)
def test_no_internal_link_is_broken(site, base_url, visit, page):
    broken = []
    for href in sorted(set(visit(page).facts["links"])):
        if not href.startswith(base_url):
            continue  # external: tests/test_links.py and `make linkcheck`
        parts = urlsplit(href)
        rel = unquote(parts.path).lstrip("/")
        target = site / rel
        if rel == "" or rel.endswith("/"):
            target = target / "index.html"
        if not target.is_file():
            broken.append(f"{href} (no file {rel or 'index.html'})")
            continue
        if parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _ids_of(target):
            broken.append(f"{href} (no id #{parts.fragment} in {rel})")
    assert not broken, f"{page}: broken internal links:\n" + "\n".join(broken)


# --------------------------------------------------------------------------- search
@pytest.mark.parametrize("query", ["Qwen", "DeepSeek"])
def test_search_finds(browser, base_url, query):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{base_url}search.html?q={query}")
    summary = WebDriverWait(browser, 30).until(lambda d: d.execute_script(
        "const s = document.querySelector('#search-results .search-summary, #search-results p');"
        "return s && /found|did not match/.test(s.innerText) ? s.innerText : null"))
    hits = browser.execute_script(
        "return [...document.querySelectorAll('#search-results ul.search li a')].map(a => a.href)")
    assert hits, f"search for {query!r}: {summary}"
    assert any(re.search(query, browser.execute_script(
        "return document.getElementById('search-results').innerText"), re.I) for _ in [0])
    if "notebooks/qwen" in PAGES and query == "Qwen":
        assert any("notebooks/qwen.html" in h for h in hits), f"the Qwen chapter is not among {hits}"


# --------------------------------------------------------------------------- reader comforts
def _a_notebook_with_code():
    for page in PAGES:
        if source_of(page).suffix == ".ipynb":
            return page
    pytest.fail("no notebook chapter in _toc.yml")


def test_code_cells_have_a_copy_button_that_copies(browser, visit):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    page = _a_notebook_with_code()
    facts = visit(page).facts
    assert facts["codeCells"] > 0, f"{page} shows no code"
    assert facts["copyButtons"] >= facts["codeCells"], (
        f"{page}: {facts['copyButtons']} copy buttons for {facts['codeCells']} code blocks")
    block = browser.find_element(By.CSS_SELECTOR, "div.cell_input div.highlight")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", block)
    button = block.find_element(By.CSS_SELECTOR, "button.copybtn")
    ActionChains(browser).move_to_element(block).pause(0.2).move_to_element(button).click().perform()
    time.sleep(0.2)
    assert button.get_attribute("data-tooltip") == "Copied!", "clicking the copy button did not copy"


def test_long_outputs_scroll(browser, visit):
    page = _a_notebook_with_code()
    visit(page)
    style = browser.execute_script("""
      const out = document.querySelector('div.cell.config_scroll_outputs div.cell_output');
      if (!out) return null;
      const cs = getComputedStyle(out);
      return {maxHeight: parseFloat(cs.maxHeight), overflowY: cs.overflowY,
              em: parseFloat(getComputedStyle(out).fontSize)};""")
    assert style, f"{page}: no cell carries config_scroll_outputs (nb_scroll_outputs in _config.yml)"
    assert style["overflowY"] in {"auto", "scroll"}
    assert style["maxHeight"] == pytest.approx(30 * style["em"], rel=0.01), style
    for p in PAGES:  # and no output anywhere is taller than that
        visit(p)
        tall = browser.execute_script("""
          return [...document.querySelectorAll('div.cell_output')].filter(o =>
            o.clientHeight > 30 * parseFloat(getComputedStyle(o).fontSize) + 2 &&
            !o.querySelector('img')).length""")
        assert tall == 0, f"{p}: {tall} outputs taller than 30em that do not scroll"


@pytest.mark.parametrize("page", PAGES)
def test_phone_width_does_not_overflow(browser, base_url, page):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        browser.get(base_url + page + ".html")
        m = browser.execute_script("""
          const over = [...document.querySelectorAll('main *')].filter(e => {
              const r = e.getBoundingClientRect(); return r.width > 0 && r.right > innerWidth + 1;})
            .filter(e => !e.closest('div.cell_output, .pst-scrollable-table-container, .table-wrapper, pre, .highlight, table'))
            .slice(0, 5).map(e => e.tagName + '.' + e.className);
          return {inner: innerWidth, doc: document.documentElement.scrollWidth,
                  body: document.body.scrollWidth, over: over,
                  tables: [...document.querySelectorAll('main table')].map(t => {
                     let s = t.parentElement; while (s && s !== document.body && getComputedStyle(s).overflowX === 'visible' && getComputedStyle(t).display !== 'block') s = s.parentElement;
                     return {wide: t.scrollWidth > innerWidth, scroller: s ? (s === t ? 'table' : s.className) : null};})};""")
        if page.endswith("landscape") or page == "notebooks/landscape":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(str(SCREENSHOTS / "landscape-phone.png"))
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert m["doc"] <= m["inner"] and m["body"] <= m["inner"], (
        f"{page} at 390 px: the page is {max(m['doc'], m['body'])} px wide; sticking out: {m['over']}")
    for t in m["tables"]:
        if t["wide"]:
            assert t["scroller"], f"{page}: a wide table has no horizontally scrolling container"


def test_landscape_table_renders_as_a_table(visit, browser):
    assert "notebooks/landscape" in PAGES, "the landscape chapter is missing from the toc"
    visit("notebooks/landscape")
    rows = browser.execute_script("return document.querySelectorAll('main div.cell_output table tbody tr').length")
    pipes = browser.execute_script(
        "return [...document.querySelectorAll('main div.cell_output p')].some(p => /^\\|.*\\|/.test(p.innerText))")
    assert rows > 0 and not pipes, "the landscape table is shown as raw Markdown, not as a table"
    narrow = browser.execute_script("""
      const em = parseFloat(getComputedStyle(document.body).fontSize);
      return [...document.querySelectorAll('main div.cell_output table th')]
        .filter(th => th.getBoundingClientRect().width < 3 * em).map(th => th.innerText);""")
    assert not narrow, f"landscape columns crushed to under 3em (words broken letter by letter): {narrow}"


def test_dark_mode_keeps_figures_visible(browser, visit):
    """In dark mode every image in the content gets a light background (_static/cnllm.css).
    The real images of the book are checked, and a probe image in a cell output always."""
    transparent = {"rgba(0, 0, 0, 0)", "transparent"}
    checked = 0
    for page in PAGES:
        visit(page)
        result = browser.execute_script("""
          document.documentElement.dataset.theme = 'dark';
          const main = document.querySelector('.bd-content') || document.body;
          let probe = document.createElement('div'); probe.className = 'cell_output';
          probe.innerHTML = '<img alt="probe" src="data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==">';
          main.appendChild(probe);
          const bg = img => getComputedStyle(img).backgroundColor;
          const r = {probe: bg(probe.querySelector('img')),
                     images: [...main.querySelectorAll('img')].filter(i => i.alt !== 'probe')
                               .map(i => ({src: i.src, bg: bg(i)}))};
          probe.remove(); document.documentElement.dataset.theme = 'light';
          return r;""")
        assert result["probe"] not in transparent, f"{page}: dark mode leaves an output image transparent"
        hidden = [i["src"] for i in result["images"] if i["bg"] in transparent]
        assert not hidden, f"{page}: in dark mode these images have no background: {hidden}"
        checked += 1
    assert checked == len(PAGES)


def test_screenshots(browser, base_url):
    """A few pages as a reader sees them, saved for the CI artifacts."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    wanted = [p for p in PAGES if p == PAGES[0] or p.rsplit("/", 1)[-1] in {"landscape", "qwen"}]
    for page in wanted:
        browser.get(base_url + page + ".html")
        browser.execute_script("return document.fonts.ready.then(() => true)")
        path = SCREENSHOTS / (page.rsplit("/", 1)[-1] + ".png")
        assert browser.save_screenshot(str(path)) and path.stat().st_size > 10_000, path
