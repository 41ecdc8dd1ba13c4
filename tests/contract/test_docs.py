"""The business rules the code cites are in the repository: every "docs/domain §N[.M]" names a
page and section of docs/domain/, and the Markdown links of the README and the docs resolve."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "domain"
CITING = [
    ROOT / "README.md",
    *(p for d in ("app", "tests", "migrations") for p in (ROOT / d).rglob("*.py")),
]
CITATION = re.compile(r"docs/domain §(\d+)(?:\.(\d+))?")
LINK = re.compile(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)")


def page(section: int) -> Path | None:
    found = sorted(DOCS.glob(f"{section:02d}-*.md"))
    return found[0] if len(found) == 1 else None


def test_every_citation_names_a_page_and_section():
    missing = []
    for path in CITING:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for major, minor in CITATION.findall(line):
                target = page(int(major))
                heading = f"## {major}.{minor} "
                if target is None or (minor and heading not in target.read_text(encoding="utf-8")):
                    missing.append(f"{path.relative_to(ROOT)}:{n}: docs/domain §{major}.{minor}")
    assert not missing, "cited sections missing from docs/domain:\n" + "\n".join(missing)


def test_no_citation_of_the_old_domain_page():
    # It was never in the repository; the rules live in docs/domain/.
    old = "DOMAIN" + " §"  # spelled apart so that this file does not cite it
    stale = [str(p.relative_to(ROOT)) for p in CITING if old in p.read_text(encoding="utf-8")]
    assert not stale


def test_markdown_links_resolve():
    broken = []
    for doc in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if "://" not in target and not (doc.parent / target).resolve().is_file():
                broken.append(f"{doc.relative_to(ROOT)} → {target}")
    assert not broken, "\n".join(broken)


def test_every_section_has_its_page():
    assert [page(n) is not None for n in range(1, 13)] == [True] * 12
