"""What the interrupt line names as published: the outputs this run replaced, never a working file such as a
notebook resume-journal entry."""

from backprop_repro.notebooks.corpus import Journal
from backprop_repro.store import atomic, outputs


def test_a_journal_entry_is_not_named_as_published_but_an_output_is(tmp_path):
    with outputs.run_scope():
        Journal(tmp_path / "out", {"runs": 2}, {}).put("k", {"verdict": "reproduced"})
        assert (tmp_path / "out" / ".notebooks-journal" / "k.json").is_file()
        assert outputs.written() == []
        atomic.write_text(tmp_path / "junit.xml", "<testsuite/>", "--junit-xml junit.xml")
        assert outputs.written() == ["--junit-xml junit.xml"]
