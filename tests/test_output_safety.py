"""Output folders stay the user's and every file is written one way (issue 17, items 3 and 4): a hostile
folder before and after a run, `--out .`, dangling links, links and modes of the files a command owns,
no lock or staging file after success, failure or interruption, `--out` in the pin folder, and
`--junit-xml` / `$GITHUB_STEP_SUMMARY` through links, onto devices, FIFOs, folders, another output of the
run and read-only destinations."""

import errno
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from backprop_repro.store import atomic, outputs
from backprop_repro.cli.commands import main
from backprop_repro.core.errors import BadInput

from .conftest import PINS_DIR, ROOT
from .test_closed_streams import _without_dac_override

OWNED_CHECK = outputs.OWNED["check"]


def _check(out, *more, ids=("feed_forward",)):
    return main(["check", *ids, "--out", str(out), "--quiet", "--jobs", "1", *more])


def _entry(path):
    """What a user could notice about a directory entry: kind, mode, owner, inode, links, target, contents."""
    st = os.lstat(path)
    seen = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_ino, st.st_nlink)
    if stat.S_ISLNK(st.st_mode):
        return seen + (os.readlink(path),)
    if stat.S_ISREG(st.st_mode):
        return seen + (path.read_bytes(),)
    if stat.S_ISDIR(st.st_mode):
        return seen + (sorted(p.name for p in path.iterdir()),)
    return seen


def _snapshot(folder, skip=()):
    return {p.name: _entry(p) for p in folder.iterdir() if p.name not in skip}


def _ours(folder):
    """Lock, staging, journal and temporary files of ours under ``folder`` (any depth)."""
    return sorted(str(p) for p in folder.rglob("*") if p.name.startswith(".backprop-repro") or p.name.endswith(".tmp"))


@pytest.fixture
def hostile(tmp_path):
    """An output folder as a user keeps it: mode 0700, a symlink to a file and one to a folder, a hard link, an
    unrelated file, a subfolder, a dangling symlink."""
    (tmp_path / "target.txt").write_text("data")
    (tmp_path / "tdir").mkdir()
    (tmp_path / "tdir" / "f").write_text("x")
    out = tmp_path / "out"
    out.mkdir()
    os.chmod(out, 0o700)
    os.symlink("../target.txt", out / "link_file")
    os.symlink("../tdir", out / "link_dir")
    (out / "hard").write_text("h")
    os.link(out / "hard", tmp_path / "hard2")
    (out / "unrelated").write_text("u")
    (out / "sub").mkdir()
    (out / "sub" / "kept").write_text("k")
    os.symlink("nowhere", out / "dangling")
    return out


@pytest.mark.parametrize("command", ["check", "compare"])
def test_a_run_leaves_the_users_folder_as_it_was(hostile, command, tmp_path):
    record = tmp_path / "record"
    assert _check(record) == 0
    folder, before, beside = _entry(hostile), _snapshot(hostile), _snapshot(tmp_path, skip=("record", "out"))
    if command == "check":
        assert _check(hostile) == 0
    else:
        assert main(["compare", str(record / "results.json"), str(record / "results.json"), "--out",
                     str(hostile)]) == 0
    assert _entry(hostile)[:5] == folder[:5]             # kind, mode 0700, owner, inode: the same folder
    written = set(outputs.OWNED[command])
    assert _snapshot(hostile, skip=written) == before    # links, hard link, other files, subfolder untouched
    assert written <= {p.name for p in hostile.iterdir()}
    assert _snapshot(tmp_path, skip=("record", "out")) == beside and not _ours(tmp_path)
    assert os.stat(tmp_path / "hard2").st_nlink == 2 and os.path.samefile(tmp_path / "hard2", hostile / "hard")


def test_out_dot_writes_into_the_working_folder(tmp_path, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    (here / "notes.txt").write_text("mine")
    monkeypatch.chdir(here)
    before = _entry(here)
    assert _check(".") == 0
    assert _check(".") == 0                              # and again over its own set
    assert {p.name for p in here.iterdir()} == {"notes.txt", *OWNED_CHECK}
    assert _entry(here)[:5] == before[:5] and not _ours(tmp_path)


def test_owned_files_keep_their_links_and_modes(tmp_path):
    out, site = tmp_path / "out", tmp_path / "site"
    assert _check(out) == 0
    site.mkdir()
    (site / "report.html").write_text("old report")
    (out / "index.html").unlink()
    os.symlink("../site/report.html", out / "index.html")            # published elsewhere through a link
    (out / "claims.csv").unlink()
    os.symlink("../site/claims.csv", out / "claims.csv")             # dangling: its target is created
    os.chmod(out / "results.json", 0o600)
    os.link(out / "comparison.csv", tmp_path / "snapshot.csv")       # a hard-link snapshot of the last run
    snapshot = (tmp_path / "snapshot.csv").read_bytes()
    assert _check(out, ids=("feed_forward", "losses")) == 0
    assert os.readlink(out / "index.html") == "../site/report.html" and "losses" in (site / "report.html").read_text()
    assert os.readlink(out / "claims.csv") == "../site/claims.csv" and (site / "claims.csv").is_file()
    assert stat.S_IMODE(os.stat(out / "results.json").st_mode) == 0o600
    assert "losses" in (out / "results.json").read_text()
    # an atomic replacement makes a new file: the snapshot keeps the previous run's table
    assert (tmp_path / "snapshot.csv").read_bytes() == snapshot != (out / "comparison.csv").read_bytes()
    assert not _ours(tmp_path)


@pytest.mark.parametrize("make", ["folder", "link to a folder", "fifo"])
def test_an_owned_name_that_is_no_regular_file_is_refused_and_nothing_changes(tmp_path, capsys, make):
    out = tmp_path / "out"
    assert _check(out) == 0
    (out / "claims.csv").unlink()
    if make == "folder":
        (out / "claims.csv").mkdir()
    elif make == "fifo":
        os.mkfifo(out / "claims.csv")
    else:
        (tmp_path / "somewhere").mkdir()
        os.symlink("../somewhere", out / "claims.csv")
    before = _snapshot(out)
    assert _check(out, ids=("feed_forward", "losses")) == 2
    err = capsys.readouterr().err
    assert "claims.csv" in err and str(out) in err and err.count("\n") == 1 and ".tmp" not in err
    assert _snapshot(out) == before and not _ours(tmp_path)


def test_a_stale_owned_file_is_removed_and_a_stale_link_loses_only_the_link(tmp_path):
    """--no-report writes no report: the previous one must not stay beside the new record."""
    out, site = tmp_path / "out", tmp_path / "site"
    assert _check(out) == 0
    site.mkdir()
    (site / "report.html").write_text("published")
    (out / "index.html").unlink()
    os.symlink("../site/report.html", out / "index.html")
    assert _check(out, "--no-report") == 0
    assert {p.name for p in out.iterdir()} == {"results.json"} and (site / "report.html").read_text() == "published"


@pytest.mark.parametrize("make", ["folder", "fifo"])
def test_a_stale_owned_name_that_is_no_regular_file_is_refused(tmp_path, capsys, make):
    out = tmp_path / "out"
    assert _check(out) == 0
    (out / "index.html").unlink()
    if make == "folder":
        (out / "index.html").mkdir()
    else:
        os.mkfifo(out / "index.html")
    before = _snapshot(out)
    assert _check(out, "--no-report", ids=("feed_forward", "losses")) == 2
    err = capsys.readouterr().err
    assert "index.html" in err and "not a regular file" in err and err.count("\n") == 1
    assert _snapshot(out) == before and not _ours(tmp_path)


def test_no_lock_or_staging_file_after_a_regression(tmp_path):
    pins = tmp_path / "pins"
    shutil.copytree(PINS_DIR, pins)
    data = json.loads((pins / "feed_forward.json").read_text())
    data["quantities"]["loss"]["value"] *= 1.01
    (pins / "feed_forward.json").write_text(json.dumps(data))
    assert _check(tmp_path / "out", "--pins", str(pins)) == 1
    assert {p.name for p in (tmp_path / "out").iterdir()} == set(OWNED_CHECK) and not _ours(tmp_path)


@pytest.fixture
def previous(tmp_path):
    out = tmp_path / "out"
    assert _check(out) == 0
    return out, _snapshot(out)


def _interrupt_on(monkeypatch, nth):
    """Raise KeyboardInterrupt instead of the ``nth`` rename that publishes a file into the output folder."""
    real, seen = os.replace, []

    def replace(src, dst):
        if outputs.STAGING_PREFIX in str(src) and outputs.STAGING_PREFIX not in str(dst):
            seen.append(dst)
            if len(seen) == nth:
                raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    return seen


def test_an_interrupt_during_publication_completes_the_new_set(previous, monkeypatch, capsys):
    out, before = previous
    seen = _interrupt_on(monkeypatch, 2)
    assert _check(out, ids=("feed_forward", "losses")) == 130
    assert len(seen) == len(OWNED_CHECK) + 1              # the interrupted rename was done again, then the rest
    record = json.loads((out / "results.json").read_text())
    assert {e["example"] for e in record["examples"]} == {"feed_forward", "losses"}
    assert record["environment"]["created"] in (out / "index.html").read_text()
    assert all("losses" in (out / name).read_text() for name in ("index.html", "comparison.csv"))
    assert not _ours(out.parent)


def test_an_interrupt_before_publication_keeps_the_previous_set(previous, monkeypatch):
    out, before = previous
    real = atomic.write_text

    def write_text(path, text, *args, **kwargs):
        if path.name == outputs._COMMIT:
            raise KeyboardInterrupt
        return real(path, text, *args, **kwargs)

    monkeypatch.setattr(atomic, "write_text", write_text)
    assert _check(out, ids=("feed_forward", "losses")) == 130
    assert _snapshot(out) == before and not _ours(out.parent)


def test_an_interrupt_before_publication_removes_temporary_files_beside_link_targets(previous, monkeypatch):
    out, _ = previous
    site = out.parent / "site"
    site.mkdir()
    (site / "report.html").write_text("old report")
    (out / "index.html").unlink()
    os.symlink("../site/report.html", out / "index.html")
    before, real = _snapshot(out), atomic.write_text

    def write_text(path, text, *args, **kwargs):
        if path.name == outputs._COMMIT:
            assert [p.name for p in site.iterdir() if p.name.endswith(".tmp")]    # the link target's is ready
            raise KeyboardInterrupt
        return real(path, text, *args, **kwargs)

    monkeypatch.setattr(atomic, "write_text", write_text)
    assert _check(out, ids=("feed_forward", "losses")) == 130
    assert _snapshot(out) == before and (site / "report.html").read_text() == "old report"
    assert [p.name for p in site.iterdir()] == ["report.html"] and not _ours(out.parent)


@pytest.mark.parametrize("where", ["pins", "pins/sub", "pins/sweeps"])
@pytest.mark.parametrize("command", [["check", "feed_forward"], ["sweep", "xor_341", "--seeds", "2"],
                                     ["drift", "--cpu"]])
def test_out_in_the_pin_folder_is_bad_input(tmp_path, capsys, where, command):
    pins = tmp_path / "pins"
    shutil.copytree(PINS_DIR, pins)
    before = sorted(p.relative_to(pins) for p in pins.rglob("*"))
    assert main([*command, "--pins", str(pins), "--out", str(tmp_path / where)]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "pin folder" in err and err.count("\n") == 1
    assert sorted(p.relative_to(pins) for p in pins.rglob("*")) == before


def test_out_in_the_default_pin_folder_is_bad_input_for_every_command(tmp_path, capsys, monkeypatch):
    """Also for commands that read no pins: a `report` or `bench` there would leave files every check then
    reads as orphaned pins. Reached through a symlink it is the same folder."""
    from backprop_repro.store.locations import default_pins_dir

    default_pins = default_pins_dir()   # the checkout's under an editable install, the shipped copy otherwise
    monkeypatch.chdir(tmp_path)
    os.symlink(default_pins, tmp_path / "pins-link")
    before = sorted(p.name for p in default_pins.rglob("*"))
    for argv in (["report", "results.json"], ["compare", "results.json"], ["selftest"], ["bench", "--quick"],
                 ["notebook", "x.ipynb"], ["check", "feed_forward"]):
        for out in (str(default_pins), "pins-link", "pins-link/reports"):
            assert main([*argv, "--out", out]) == 2, (argv, out)
            assert "pin folder" in capsys.readouterr().err
    assert sorted(p.name for p in default_pins.rglob("*")) == before


def test_out_beside_the_pin_folder_is_fine(tmp_path):
    """The other side: a folder whose name merely starts like the pins' is not inside them."""
    pins = tmp_path / "pins"
    shutil.copytree(PINS_DIR, pins)
    assert _check(tmp_path / "pins-reports", "--pins", str(pins)) == 0


def test_junit_xml_through_a_symlink_writes_its_target(tmp_path):
    (tmp_path / "ci").mkdir()
    shared = tmp_path / "ci" / "junit-shared.xml"
    shared.write_text("stale results")
    os.chmod(shared, 0o640)
    os.symlink("ci/junit-shared.xml", tmp_path / "junit.xml")
    assert _check(tmp_path / "o", "--junit-xml", str(tmp_path / "junit.xml")) == 0
    assert os.readlink(tmp_path / "junit.xml") == "ci/junit-shared.xml"
    assert shared.read_text().startswith("<?xml") and stat.S_IMODE(os.stat(shared).st_mode) == 0o640
    assert not _ours(tmp_path)


@pytest.mark.parametrize("kind", ["fifo", "folder", "device", "link to a fifo"])
def test_junit_xml_onto_anything_but_a_regular_file_is_bad_input(tmp_path, capsys, monkeypatch, kind):
    real = os.replace

    def guarded(src, dst):   # were the check ever lost, run as root this test must not replace /dev/null
        assert not str(dst).startswith("/dev/"), f"would replace {dst}"
        return real(src, dst)

    monkeypatch.setattr(os, "replace", guarded)
    target = tmp_path / "junit.xml"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    elif kind == "device":
        target = "/dev/null"
    else:
        os.mkfifo(tmp_path / "pipe")
        os.symlink("pipe", target)
    before = _entry(Path(target))
    assert _check(tmp_path / "o", "--junit-xml", str(target)) == 2
    err = capsys.readouterr().err
    assert f"--junit-xml {target}" in err and "not a regular file" in err and err.count("\n") == 1
    assert not (tmp_path / "o" / "results.json").exists()        # refused before the run
    assert _entry(Path(target))[:5] == before[:5]


@pytest.mark.parametrize("name", OWNED_CHECK)
def test_junit_xml_onto_another_output_of_the_run_is_bad_input(previous, capsys, name):
    out, before = previous
    assert _check(out, "--junit-xml", str(out / name)) == 2
    err = capsys.readouterr().err
    assert f"--junit-xml {out / name}" in err and "same file" in err and err.count("\n") == 1
    assert _snapshot(out) == before


def test_junit_xml_onto_another_output_through_a_link_is_bad_input(previous, capsys, tmp_path):
    out, before = previous
    os.symlink(out / "results.json", tmp_path / "junit.xml")
    assert _check(out, "--junit-xml", str(tmp_path / "junit.xml")) == 2
    assert "same file" in capsys.readouterr().err and _snapshot(out) == before


def test_step_summary_onto_another_output_is_bad_input(previous, capsys, monkeypatch, tmp_path):
    out, before = previous
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(out / "index.html"))
    assert _check(out) == 2
    assert "GITHUB_STEP_SUMMARY" in capsys.readouterr().err and _snapshot(out) == before
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "j.xml"))
    assert _check(out, "--junit-xml", str(tmp_path / "j.xml")) == 2
    assert "same file" in capsys.readouterr().err


def test_step_summary_is_appended_through_the_helper(tmp_path, monkeypatch):
    """Other steps' summaries stay in front; the file keeps its mode and stays behind its link."""
    real = tmp_path / "summary.md"
    real.write_text("## an earlier step\n")
    os.chmod(real, 0o600)
    os.symlink("summary.md", tmp_path / "link.md")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "link.md"))
    assert _check(tmp_path / "o") == 0
    assert _check(tmp_path / "o") == 0
    text = real.read_text()
    assert text.startswith("## an earlier step\n") and text.count("backprop-repro check: PASS") == 2
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o600 and (tmp_path / "link.md").is_symlink()
    assert not _ours(tmp_path)


def _read_only_run(args, chmods):
    """``python -m backprop_repro ARGS`` with ``chmods`` (path -> mode) applied, effective for root too (see
    tests/test_closed_streams.py); the modes are restored after. (exit code, stderr)."""
    saved = {path: stat.S_IMODE(os.stat(path).st_mode) for path in chmods}
    for path, mode in chmods.items():
        os.chmod(path, mode)
    try:
        done = subprocess.run([sys.executable, "-m", "backprop_repro", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=300, preexec_fn=_without_dac_override if os.geteuid() == 0 else None)
    finally:
        for path, mode in saved.items():
            os.chmod(path, mode)
    return done.returncode, done.stderr


def test_junit_xml_in_a_read_only_folder_is_bad_input_naming_it(tmp_path):
    ci = tmp_path / "ci"
    ci.mkdir()
    code, err = _read_only_run(["check", "feed_forward", "--out", str(tmp_path / "o"), "--quiet",
                                "--junit-xml", str(ci / "junit.xml")], {ci: 0o555})
    assert code == 2, err
    assert f"--junit-xml {ci / 'junit.xml'}" in err and "read-only" in err and ".tmp" not in err
    assert err.count("\n") == 1 and not list(ci.iterdir())


def test_a_read_only_junit_xml_file_is_bad_input_and_kept(tmp_path):
    target = tmp_path / "junit.xml"
    target.write_text("kept")
    code, err = _read_only_run(["check", "feed_forward", "--out", str(tmp_path / "o"), "--quiet",
                                "--junit-xml", str(target)], {target: 0o444})
    assert code == 2, err
    assert f"--junit-xml {target}" in err and "read-only" in err and target.read_text() == "kept"


def test_a_read_only_out_folder_is_bad_input_and_keeps_its_set(previous):
    out, before = previous
    code, err = _read_only_run(["check", "feed_forward", "losses", "--out", str(out), "--quiet"], {out: 0o555})
    assert code == 2, err
    assert f"--out {out}" in err and err.count("\n") == 1 and "Traceback" not in err
    assert _snapshot(out) == before and not _ours(out.parent)


def test_a_read_only_owned_file_is_bad_input_and_nothing_is_published(previous):
    out, before = previous
    code, err = _read_only_run(["check", "feed_forward", "losses", "--out", str(out), "--quiet"],
                               {out / "index.html": 0o444})
    assert code == 2, err
    assert "index.html" in err and "read-only" in err and ".tmp" not in err and err.count("\n") == 1
    assert _snapshot(out) == before and not _ours(out.parent)


def test_a_write_refused_by_the_system_names_the_users_path_never_the_temporary_file(tmp_path, monkeypatch, capsys):
    """What the checks before the run cannot see (an ACL, a file system gone read-only meanwhile)."""
    real = os.open

    def refusing(path, flags, *args, **kwargs):
        if str(path).endswith(".tmp") and "junit" in str(path):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing)
    target = tmp_path / "junit.xml"
    assert _check(tmp_path / "o", "--junit-xml", str(target)) == 2
    err = capsys.readouterr().err
    assert f"--junit-xml {target}: cannot write there (Read-only file system)" in err and ".tmp" not in err
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


def test_a_pin_write_refused_by_the_system_names_the_pin(tmp_path, monkeypatch, capsys):
    pins = tmp_path / "pins"
    shutil.copytree(PINS_DIR, pins)
    data = json.loads((pins / "feed_forward.json").read_text())
    data["quantities"]["loss"]["reason"] = "edited"
    (pins / "feed_forward.json").write_text(json.dumps(data))
    real = os.open

    def refusing(path, flags, *args, **kwargs):
        if str(path).endswith(".tmp"):
            raise OSError(errno.EACCES, "Permission denied", str(path))
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing)
    assert main(["pins", "update", "feed_forward", "--pins", str(pins)]) == 2
    err = capsys.readouterr().err
    assert f"{pins / 'feed_forward.json'}: cannot write there (Permission denied)" in err and ".tmp" not in err
    assert "edited" in (pins / "feed_forward.json").read_text()


def test_a_mounted_file_is_refused(tmp_path, monkeypatch):
    """A file mounted over (a container's bind mount) cannot be renamed onto; /proc/self/mountinfo lists it.
    Escaped characters in mount points are decoded; a file that is not listed is written."""
    mounted, plain = tmp_path / "my junit.xml", tmp_path / "other.xml"
    mounted.write_text("kept")
    info = tmp_path / "mountinfo"
    escaped = str(mounted).replace(" ", "\\040")
    info.write_text(f"36 35 98:0 /mnt1 /mnt1 rw,noatime master:1 - ext3 /dev/root rw\n"
                    f"37 35 98:0 /x {escaped} rw - ext4 /dev/vda rw\n")
    monkeypatch.setattr(atomic, "MOUNTINFO", str(info))
    with pytest.raises(atomic.WriteFailed, match="is a mount point"):
        atomic.write_text(mounted, "new", "--junit-xml")
    assert mounted.read_text() == "kept"
    atomic.write_text(plain, "new")
    assert plain.read_text() == "new"


def test_the_helper_refuses_the_same_file_twice_by_any_name(tmp_path):
    (tmp_path / "a").write_text("")
    os.symlink("a", tmp_path / "b")
    atomic.distinct([("one", tmp_path / "a"), ("two", tmp_path / "c")])
    with pytest.raises(BadInput, match="two: is the same file as one"):
        atomic.distinct([("one", tmp_path / "a"), ("two", tmp_path / "b")])


def _pin_copy(tmp_path):
    pins = tmp_path / "pins"
    shutil.copytree(PINS_DIR, pins)
    return pins, {p.name: p.read_bytes() for p in pins.rglob("*.json")}


@pytest.mark.parametrize("how", ["junit", "summary", "linked output", "junit new file"])
def test_no_output_of_a_check_lands_in_the_pin_folder(tmp_path, monkeypatch, capsys, how):
    pins, before = _pin_copy(tmp_path)
    out = tmp_path / "out"
    argv = ["check", "feed_forward", "--pins", str(pins), "--out", str(out), "--quiet", "--jobs", "1"]
    if how == "junit":
        argv += ["--junit-xml", str(pins / "feed_forward.json")]
    elif how == "junit new file":
        argv += ["--junit-xml", str(pins / "junit.json")]
    elif how == "summary":
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(pins / "losses.json"))
    else:
        out.mkdir()
        os.symlink(pins / "feed_forward.json", out / "comparison.csv")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "pin folder" in err and err.count("\n") == 1
    assert {p.name: p.read_bytes() for p in pins.rglob("*.json")} == before


def test_the_commands_that_update_pins_still_write_them(tmp_path):
    pins, before = _pin_copy(tmp_path)
    (pins / "feed_forward.json").unlink()
    assert main(["pins", "update", "feed_forward", "--pins", str(pins)]) == 1   # a new pin is a change
    written = json.loads((pins / "feed_forward.json").read_text())
    assert written["quantities"] == json.loads(before["feed_forward.json"])["quantities"]


def test_a_history_database_never_lands_in_the_pin_folder(tmp_path, capsys):
    from backprop_repro.store.locations import default_pins_dir

    db = default_pins_dir() / "history.sqlite"
    assert main(["history", "show", "--db", str(db), "--out", str(tmp_path / "h")]) == 2
    assert "pin folder" in capsys.readouterr().err and not db.exists()


def test_a_report_replaces_a_check_set_whole(tmp_path):
    """A report into a folder that holds a check's set: the older record is not left beside the new report."""
    out, other = tmp_path / "out", tmp_path / "other"
    assert main(["check", "losses", "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    assert main(["check", "feed_forward", "--out", str(other), "--quiet", "--jobs", "1", "--no-report"]) == 0
    assert main(["report", str(other / "results.json"), "--out", str(out)]) == 0
    assert not (out / "results.json").exists() and "feed_forward" in (out / "index.html").read_text()


def test_a_junit_xml_file_without_a_write_bit_is_refused_also_for_root(tmp_path, capsys):
    """Root may write anything, and os.access says so; a file its owner made 0444 is still read-only for us.
    In this process (root here, with every capability): exit 2 naming the file, which is kept."""
    target = tmp_path / "junit.xml"
    target.write_text("kept")
    os.chmod(target, 0o444)
    assert _check(tmp_path / "o", "--junit-xml", str(target)) == 2
    err = capsys.readouterr().err
    assert f"--junit-xml {target}" in err and "read-only" in err and err.count("\n") == 1
    assert target.read_text() == "kept" and stat.S_IMODE(os.stat(target).st_mode) == 0o444
    os.chmod(target, 0o644)                  # one write bit is enough: written
    assert _check(tmp_path / "o", "--junit-xml", str(target)) == 0 and "<testsuite" in target.read_text()


@pytest.mark.parametrize("option", ["--junit-xml", "--out", "--pins"])
def test_an_empty_path_is_bad_input_naming_the_option(tmp_path, capsys, monkeypatch, option):
    monkeypatch.chdir(tmp_path)              # an empty --out would have meant here
    args = {"--junit-xml": ["--out", "o"], "--out": [], "--pins": ["--out", "o"]}[option]
    assert main(["check", "feed_forward", "--quiet", *args, option, ""]) == 2
    err = capsys.readouterr().err
    assert f"{option}: an empty path" in err and err.count("\n") == 1 and not list(tmp_path.iterdir())
