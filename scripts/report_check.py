"""Opens the demo organisation's reports with the tools their readers use (scripts/report-check).

Usage: report_check.py BASE_URL TOKEN WORK_DIR
"""

import hashlib
import io
import json
import os
import subprocess
import sys
import urllib.request
import zipfile

import docx
import openpyxl
from PIL import Image

BASE, TOKEN, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
ORG = f"{BASE}/api/v1/orgs/demo"
os.makedirs(WORK, exist_ok=True)


def get(path):
    request = urllib.request.Request(f"{ORG}/{path}", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read(), response.headers


def listing(collection):
    items, cursor = [], None
    while True:
        body, _ = get(f"{collection}?limit=200" + (f"&cursor={cursor}" if cursor else ""))
        page = json.loads(body)
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def save(name, content):
    path = os.path.join(WORK, name)
    with open(path, "wb") as f:
        f.write(content)
    return path


def check_pdf(name, content, pages=None):
    """Renders every page to PNG; each must exist and show something (not one flat colour)."""
    path = save(name + ".pdf", content)
    info = subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True).stdout
    count = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert count >= 1, f"{name}: no page"
    if pages is not None:
        assert count == pages, f"{name}: {count} pages, expected {pages}"
    prefix = os.path.join(WORK, name)
    subprocess.run(["pdftoppm", "-r", "40", "-png", path, prefix], check=True)
    rendered = sorted(f for f in os.listdir(WORK) if f.startswith(name + "-") and f.endswith(".png"))
    assert len(rendered) == count, f"{name}: {len(rendered)} images for {count} pages"
    for image_name in rendered:
        image = Image.open(os.path.join(WORK, image_name)).convert("L")
        # Small grey text at 40 dpi has few pixels under half brightness: count every pixel that
        # is not near-white (a blank page has none but its rules and footer, well under 1,000).
        dark = sum(1 for value in image.getdata() if value < 200)
        assert dark > 1000, f"{name}: page {image_name} is blank ({dark} marked pixels)"
    print(f"ok {name}.pdf: {count} page(s) rendered, none blank")
    return count


def check_soa(content, controls):
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    assert header[:2] == ["Ref", "Control"], header
    assert sheet.freeze_panes == "A2", sheet.freeze_panes
    assert sheet.auto_filter.ref, "autofilter"
    refs = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    annex = [r for r in refs if r and r.startswith("A.")]
    assert len(annex) == 38, f"{len(annex)} Annex A rows"
    assert refs == [c["ref"] for c in controls], "the SoA lists every control in natural order"
    assert "About" in workbook.sheetnames
    print(f"ok soa.xlsx: {len(refs)} controls, 38 of Annex A, header frozen, autofilter")


def check_register(content, systems):
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    names = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    expected = {s["name"] for s in systems}
    assert expected and expected <= names, f"missing systems: {expected - names}"
    print(f"ok ai-system-register.xlsx: the demo's {len(expected)} AI systems")


def check_docx(name, content, min_rows, heading=None):
    document = docx.Document(io.BytesIO(content))
    rows = sum(len(table.rows) for table in document.tables)
    assert rows >= min_rows, f"{name}: {rows} table rows"
    styles = {p.style.name for p in document.paragraphs}
    assert "Title" in styles, f"{name}: no title ({styles})"
    if heading:
        assert any(p.style.name == "Heading 1" and heading in p.text for p in document.paragraphs), f"{name}: no heading {heading}"
    footer = " ".join(p.text for p in document.sections[0].footer.paragraphs)
    assert "SHA-256" in footer, f"{name}: footer {footer!r}"
    print(f"ok {name}.docx: {rows} table rows, headings, hash in the footer")


def check_pack(content):
    archive = zipfile.ZipFile(io.BytesIO(content))
    manifest = json.loads(archive.read("manifest.json"))
    names = set(archive.namelist()) - {"manifest.json"}
    assert {f["path"] for f in manifest["files"]} == names, "the manifest lists every file"
    for entry in manifest["files"]:
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"], entry["path"]
    for name in sorted(n for n in names if n.endswith(".pdf")):
        check_pdf("pack-" + os.path.basename(name)[:-4], archive.read(name))
    print(f"ok stage1-pack.zip: {len(names)} files verify; missing: {manifest['missing']}")


controls = listing("controls")
systems = listing("ai-systems")
reviews = [r for r in listing("management-reviews") if r["state"] == "closed"]
audits = listing("audits")
assert reviews and audits, "the demo has a closed review and an audit"

soa_pdf, headers = get("reports/soa?format=pdf")
assert headers["Content-Type"] == "application/pdf"
assert check_pdf("soa", soa_pdf) >= 2, "38 controls take more than a page"
check_soa(get("reports/soa?format=xlsx")[0], controls)
check_docx("soa", get("reports/soa?format=docx")[0], min_rows=len(controls) + 1, heading="Controls")
check_register(get("reports/ai-system-register?format=xlsx")[0], systems)
risks = openpyxl.load_workbook(io.BytesIO(get("reports/risk-register?format=xlsx")[0])).worksheets[0]
assert risks.max_row - 1 == len(listing("risks")), "every risk in the register"
check_pdf("executive-summary", get("reports/executive-summary?format=pdf")[0], pages=1)
review = reviews[-1]["id"]
check_pdf("management-review", get(f"reports/management-review?format=pdf&id={review}")[0])
check_docx("management-review", get(f"reports/management-review?format=docx&id={review}")[0], min_rows=2)
for audit in audits:
    check_pdf(f"internal-audit-{audit['id']}", get(f"reports/internal-audit?format=pdf&id={audit['id']}")[0])
check_pack(get("reports/stage1-pack?format=zip")[0])
source, headers = get("reports/soa?format=json")
assert hashlib.sha256(source).hexdigest() == headers["X-Aims-Source-Sha256"]
print("ok soa.json: its SHA-256 is the one the documents print")
