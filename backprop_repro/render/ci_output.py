"""What CI systems read natively, rendered from a verdict record only: JUnit XML (one test case per
quantity, printed value and claim; reviewed outcomes pass with their note, regressions fail with their
message, unavailable checks are skipped with the reason), a GitHub Actions step summary (Markdown) and
``::error`` annotations."""

import xml.etree.ElementTree as ET

from backprop_repro.core.record import NON_FAILING

__all__ = ["junit_xml", "step_summary", "annotations"]


def _cases(record):
    """(classname, name, status, message) for every row of the record."""
    for r in record.get("results", []):
        yield r["example"], r["quantity"], r["status"], r.get("message") or f"policy {r.get('policy')}"
    for e in record.get("examples", []):
        if e.get("warnings_status", "pass") != "pass":
            yield e["example"], "warnings", "fail", e.get("warnings_note", "")
    for d in record.get("document_values", []):
        note = f"printed {d['printed']} in {d['document']} ({d['section']}): {d['outcome']}"
        if d["status"] == "pass" and d["outcome"] != "reproduced":
            note += f" as reviewed: {d.get('note', '')}"
        yield f"{d['example']}.printed", d.get("id", d["quantity"]), d["status"], note
    for c in record.get("claims", []):
        note = f"{c['verdict']}" + (" (as reviewed)" if c["status"] == "pass" else f", reviewed {c['expected_verdict']}")
        yield f"{c.get('example', 'claims')}.claims", c["id"], c["status"], f"{note}: {c.get('note', '')}".rstrip(": ")
    if record.get("determinism"):
        d = record["determinism"]
        yield "determinism", f"{d['repeats']} processes", d["status"], f"{len(d['differences'])} quantities differ"
    for g in (record.get("bench") or {}).get("gates", []):
        yield "bench", f"{g['name']} [{g['subject']}]", g["status"], f"measured {g['measured']}, threshold {g['threshold']}"
    for s in record.get("sweeps", []):
        yield "sweeps", s["example"], s.get("status", "pass"), s.get("note", "")


def junit_xml(record):
    cases = list(_cases(record))
    failures = sum(status not in NON_FAILING for _, _, status, _ in cases)
    skipped = sum(status == "unavailable" for _, _, status, _ in cases)
    suites = ET.Element("testsuites", name="backprop-repro", tests=str(len(cases)), failures=str(failures))
    suite = ET.SubElement(suites, "testsuite", name="backprop-repro check", tests=str(len(cases)),
                          failures=str(failures), errors="0", skipped=str(skipped),
                          timestamp=str(record.get("environment", {}).get("created", "")))
    for classname, name, status, message in cases:
        case = ET.SubElement(suite, "testcase", classname=classname, name=name)
        if status == "unavailable":
            ET.SubElement(case, "skipped", message=message)
        elif status not in NON_FAILING:
            failure = ET.SubElement(case, "failure", message=message[:500], type=status)
            failure.text = message
        elif message:
            ET.SubElement(case, "system-out").text = message
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def step_summary(record):
    cases = list(_cases(record))
    failing = [c for c in cases if c[2] not in NON_FAILING]
    verdict = "PASS: everything holds" if record["exit_status"] == 0 else "FAIL: regression"
    lines = [f"## backprop-repro check: {verdict}", "",
             f"- quantities: {sum(r['status'] == 'pass' for r in record.get('results', []))} of "
             f"{len(record.get('results', []))} within their policies",
             f"- printed values: {sum(d['outcome'] == 'reproduced' for d in record.get('document_values', []))} of "
             f"{len(record.get('document_values', []))} reproduced, "
             f"{sum(d['status'] != 'pass' for d in record.get('document_values', []))} differ from the reviewed outcome",
             f"- claims: {len(record.get('claims', []))}, "
             f"{sum(c['status'] not in NON_FAILING for c in record.get('claims', []))} differ from the reviewed verdict, "
             f"{sum(c['status'] == 'unavailable' for c in record.get('claims', []))} unavailable",
             f"- environment: Python {record['environment'].get('python')}, NumPy {record['environment'].get('numpy')}, "
             f"{record['environment'].get('cpu', '')}", ""]
    if failing:
        lines += ["| where | what | status | message |", "|---|---|---|---|"]
        lines += [f"| {c} | {n} | {s} | {m.replace('|', '/')[:300]} |" for c, n, s, m in failing[:200]]
        lines.append("")
    return "\n".join(lines) + "\n"


def annotations(record):
    """``::error`` workflow commands for every regression (GitHub Actions shows them on the run)."""
    out = []
    for classname, name, status, message in _cases(record):
        if status not in NON_FAILING:
            text = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            out.append(f"::error title=backprop-repro {classname}:{name}::{text}")
    return out
