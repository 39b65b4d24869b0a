"""The measurable rules of GB/T 9704-2012 (党政机关公文格式) that the project's PDFs must keep.

Read back from the PDF with pdfplumber: A4; every line inside the 156×225 mm text area (top margin
37 mm, left 28 mm) except the page numbers; page numbers “— N —” 7 mm below the text area, odd
pages on the right and even on the left; an embedded CJK font; on page 1 the red organ mark about
35 mm below the top of the text area and a red rule as wide as the text area, the title in 22 pt
(二号) and the body in 16 pt (三号); 文号 like 〔2026〕12号 and dates like 2026年12月1日 without
leading zeros.
"""
import re

MM = 72 / 25.4
TOP, LEFT, WIDTH, HEIGHT = 37 * MM, 28 * MM, 156 * MM, 225 * MM
SLACK = 1.5 * MM
PAGE_NUMBER = re.compile(r"^—\s*\d+\s*—$")
DOC_NUMBER = re.compile(r"〔(\d{4})〕([1-9]\d*)号")
BAD_DOC_NUMBER = re.compile(r"〔\d{4}〕0\d*号|\[\d{4}\]")
DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")


def lines(page):
    """(text, x0, x1, top, bottom) of each line of characters on the page."""
    rows = {}
    for ch in page.chars:
        rows.setdefault(round(ch["top"] / 2), []).append(ch)
    for chars in rows.values():
        chars.sort(key=lambda c: c["x0"])
        yield ("".join(c["text"] for c in chars).strip(), min(c["x0"] for c in chars),
               max(c["x1"] for c in chars), min(c["top"] for c in chars), max(c["bottom"] for c in chars))


def is_red(color):
    return bool(color) and len(color) == 3 and color[0] > 0.6 and color[1] < 0.45 and color[2] < 0.45


def check_page_layout(pdf):
    """A4 pages, text inside the text area, page numbers placed by parity; returns {page: number text}."""
    numbers = {}
    for index, page in enumerate(pdf.pages, start=1):
        assert (round(page.width), round(page.height)) == (595, 842), f"page {index} is not A4"
        for text, x0, x1, top, bottom in lines(page):
            if PAGE_NUMBER.match(text):
                numbers[index] = text
                assert abs(top - (TOP + HEIGHT + 7 * MM)) < 3 * MM, (index, text, top)
                if index % 2:
                    assert x1 > LEFT + WIDTH - 12 * MM, f"odd page {index}: number not on the right"
                else:
                    assert x0 < LEFT + 12 * MM, f"even page {index}: number not on the left"
                continue
            assert LEFT - SLACK <= x0 and x1 <= LEFT + WIDTH + SLACK, (index, text, x0, x1)
            assert TOP - SLACK <= top and bottom <= TOP + HEIGHT + SLACK, (index, text, top, bottom)
    for index, text in numbers.items():
        assert text.replace(" ", "") == f"—{index}—", (index, text)
    assert 1 in numbers, "page 1 has no page number"
    return numbers


def check_fonts(pdf):
    fonts = {c["fontname"] for p in pdf.pages for c in p.chars}
    assert any("CJK" in f or "Song" in f or "Hei" in f or "Kai" in f or "Fang" in f for f in fonts), fonts
    # Embedded: pdfplumber names an embedded subset with a six-letter tag, ABCDEF+Font.
    assert any(re.match(r"^[A-Z]{6}\+", f) for f in fonts), fonts


def check_first_page(page, title):
    """The red organ mark and rule, the 22 pt title and the 16 pt body of page 1."""
    red = [c for c in page.chars if is_red(c.get("non_stroking_color"))]
    assert red, "no red organ mark"
    assert abs(min(c["top"] for c in red) - (TOP + 35 * MM)) < 6 * MM, min(c["top"] for c in red)
    rules = [r for r in list(page.rects) + list(page.lines)
             if (is_red(r.get("non_stroking_color")) or is_red(r.get("stroking_color")))
             and abs(r["bottom"] - r["top"]) < 3 * MM]
    assert any(abs((r["x1"] - r["x0"]) - WIDTH) < 2 * MM and abs(r["x0"] - LEFT) < 2 * MM for r in rules), \
        "no red rule as wide as the text area"
    compact = title.replace(" ", "")
    sizes = {}
    for ch in page.chars:
        sizes.setdefault(round(ch["size"]), []).append(ch["text"])
    title_chars = "".join(sizes.get(22, []))
    assert compact[:8] in title_chars, ("title not in 22 pt", title_chars[:40])
    assert len(sizes.get(16, [])) > 20, "no 16 pt body text"


def check_numbers_and_dates(text):
    for year, month, day in DATE.findall(text):
        assert not month.startswith("0") and not day.startswith("0"), f"{year}年{month}月{day}日"
    assert not BAD_DOC_NUMBER.search(text), BAD_DOC_NUMBER.search(text).group(0)


def check(pdf, title):
    """Every rule above on an open pdfplumber document; returns the whole text (spaces and newlines dropped)."""
    check_page_layout(pdf)
    check_fonts(pdf)
    check_first_page(pdf.pages[0], title)
    text = "".join(page.extract_text() or "" for page in pdf.pages)
    text = text.replace("\n", "").replace(" ", "")
    check_numbers_and_dates(text)
    return text
