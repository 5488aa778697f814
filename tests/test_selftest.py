"""The mutation self-test: every realistic mutation of reference_impl/ makes the gate fail.

The baseline is built on the machine the test runs on, so this never skips for an environment reason.
"""

import json

import pytest

from backprop_repro.cli.commands import main
from backprop_repro.sources import selftest
from backprop_repro.core.errors import BadInput
from backprop_repro.core.spec import Mutation
from backprop_repro.sources.selftest import MUTATIONS, reachable_examples, run_selftest


@pytest.fixture(scope="module")
def selftest_rows():
    return {row["id"]: row for row in run_selftest()}


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.id for m in MUTATIONS])
def test_mutation_is_killed_by_the_strict_gate(selftest_rows, mutation):
    row = selftest_rows[mutation.id]
    if row["equivalent_here"]:     # e.g. nep50-plain-add under NumPy 1.x: the strict gate proves no bit moved
        assert not row["killed_strict"], f"{mutation.id} claims to be equivalent here but changed bits"
    else:
        assert row["killed_strict"], f"mutation {mutation.id} ({mutation.why}) survived check --strict"


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.id for m in MUTATIONS])
def test_mutation_is_killed_by_the_default_gate_or_its_survival_is_explained(selftest_rows, mutation):
    row = selftest_rows[mutation.id]
    if row["equivalent_here"]:
        assert not row["killed_default"]
    elif mutation.default_survivor:
        assert not row["killed_default"], (f"{mutation.id} is now killed by the default gate: drop its "
                                           f"default_survivor note")
    else:
        assert row["killed_default"], f"mutation {mutation.id} ({mutation.why}) survived the default gate"


def test_catalogue_is_large_enough_and_unique():
    assert len(MUTATIONS) >= 15 and len({m.id for m in MUTATIONS}) == len(MUTATIONS)


def test_reachability_follows_imports():
    assert "feed_forward" not in reachable_examples("reference_impl.examples.cavar_single_layer")
    assert "toy_backprop" in reachable_examples("reference_impl.finite_differences")
    assert "feed_forward" not in reachable_examples("reference_impl.finite_differences")
    assert {"chain_rule", "toy_backprop"} <= set(reachable_examples("reference_impl.examples._toy_network"))
    # gradient_check reads every example's GRADIENT_PROBLEM through the registry: a change there reaches it
    assert reachable_examples("reference_impl.examples.xor_341") == ["gradient_check", "xor_341"]
    assert reachable_examples("reference_impl.examples.cavar_single_layer") == ["cavar_single_layer", "gradient_check"]


def test_every_mutation_names_a_module_and_its_own_defaults_to_the_declaring_example():
    from backprop_repro.core import registry

    by_id = {m.id: m for m in MUTATIONS}
    assert by_id["xor-seed"].module == registry.get("xor_341").module_name
    assert by_id["fd-step-last-digit"].module == "reference_impl.finite_differences"


def test_a_module_quoting_its_own_mutation_is_mutated_in_its_code_not_in_the_declaration():
    text = 'SEED = 0\n\nMUTATIONS = (\n    Mutation("s", "SEED = 0", "SEED = 1", "seed"),\n)\n'
    mutation = Mutation("s", "SEED = 0", "SEED = 1", "seed")
    assert selftest._mutated(text, mutation, "m.py").startswith("SEED = 1\n\nMUTATIONS = (\n    Mutation(\"s\", \"SEED = 0\"")
    twice = text.replace("SEED = 0\n\n", "SEED = 0\nSEED = 0\n\n", 1)
    with pytest.raises(BadInput, match="occurs 2 times in m.py"):
        selftest._mutated(twice, mutation, "m.py")
    with pytest.raises(BadInput, match="occurs 0 times"):   # only in the declaration: nothing to mutate
        selftest._mutated(text.replace("SEED = 0\n\n", "", 1), mutation, "m.py")


def test_selftest_command_writes_selftest_json(tmp_path, capsys):
    code = main(["selftest", "--only", "cavar-seed", "xor-seed", "--out", str(tmp_path), "--quiet"])
    assert code == 0
    data = json.loads((tmp_path / "selftest.json").read_text())
    assert {m["name"] for m in data["mutations"]} == {"cavar-seed", "xor-seed"}
    assert all({"killed_default", "killed_strict", "caught_by"} <= set(m) for m in data["mutations"])
    assert "kill rate: default 2/2" in capsys.readouterr().out


def test_unknown_mutation_is_bad_input(tmp_path, capsys):
    assert main(["selftest", "--only", "no-such-mutation", "--out", str(tmp_path)]) == 2
    assert "--only no-such-mutation" in capsys.readouterr().err


def test_an_equivalence_claim_is_checked_not_assumed(monkeypatch):
    """A mutant declared equivalent in this environment must change no bit; if it does, the gate fails."""
    mutation = next(m for m in MUTATIONS if m.equivalent_when)
    monkeypatch.setitem(selftest.EQUIVALENT_WHEN, mutation.equivalent_when[0], lambda: True)
    row = {"equivalent_here": selftest.equivalent_here(mutation), "killed_strict": True, "killed_default": True,
           "expected_default_survivor": ""}
    assert row["equivalent_here"].startswith(mutation.equivalent_when[0]) and selftest.unexplained(row)
    assert not selftest.unexplained({**row, "killed_strict": False, "killed_default": False})
    monkeypatch.setitem(selftest.EQUIVALENT_WHEN, mutation.equivalent_when[0], lambda: False)
    assert selftest.equivalent_here(mutation) == ""
    assert selftest.unexplained({**row, "equivalent_here": "", "killed_strict": False})


def test_a_mutant_stops_at_its_first_kill_under_both_gates_quickest_example_first(tmp_path, monkeypatch):
    from backprop_repro.sources import runner

    ids = ["feed_forward", "losses", "activations"]
    assert selftest._main(["--make-baseline", str(tmp_path), *ids]) == 0
    seconds = json.loads((tmp_path / "seconds.json").read_text())
    assert set(seconds) == set(ids)
    ran = []
    real_run = runner.run_example
    monkeypatch.setattr(runner, "run_example", lambda example: ran.append(example.id) or real_run(example))
    assert selftest._judge(tmp_path, ids) == {"default": [], "strict": []}   # no failure: every example runs
    assert sorted(ran) == sorted(ids)
    assert ran == sorted(ids, key=seconds.get)
    ran.clear()
    monkeypatch.setattr(runner, "compare_example", lambda run, pin, strict: [
        {"status": "fail", "quantity": "q", "message": "strict" if strict else "default"}])
    verdict = selftest._judge(tmp_path, ids)
    assert len(ran) == 1 and verdict["default"] and verdict["strict"]
    ran.clear()
    monkeypatch.setattr(runner, "compare_example", lambda run, pin, strict: [
        {"status": "fail", "quantity": "q", "message": "bits"}] if strict else [])   # only --strict sees it
    verdict = selftest._judge(tmp_path, ids)
    assert len(ran) == 3 and not verdict["default"] and len(verdict["strict"]) == 3


def test_a_baseline_that_differs_in_a_second_process_fails_the_selftest(monkeypatch):
    """The unmutated code judged against its own baseline in another process (beside the mutants) must change no
    bit; when it does, the whole self-test fails instead of reporting kill rates."""
    from backprop_repro.core.errors import RunFailed

    real = selftest._run_copy

    def run_copy(tmp, source, mutation, args):
        done = real(tmp, source, mutation, args)
        if tmp.name == "sanity":
            done.stdout = json.dumps({"default": [], "strict": ["xor_341:output 1 ULP"]})
        return done

    monkeypatch.setattr(selftest, "_run_copy", run_copy)
    with pytest.raises(RunFailed, match="differs from its own baseline.*xor_341:output"):
        run_selftest(["xor-seed"])


def test_a_void_baseline_stops_the_mutants_that_have_not_started(monkeypatch):
    from backprop_repro.core.errors import RunFailed

    real, mutants = selftest._run_copy, []

    def run_copy(tmp, source, mutation, args):
        if tmp.name == "sanity":   # at once, and differing
            return type("Done", (), {"returncode": 0, "stderr": "",
                                     "stdout": json.dumps({"default": [], "strict": ["xor_341:output"]})})()
        if mutation is not None:
            mutants.append(mutation.id)
        return real(tmp, source, mutation, args)

    monkeypatch.setattr(selftest, "_run_copy", run_copy)
    with pytest.raises(RunFailed, match="differs from its own baseline"):
        run_selftest(["xor-seed", "cavar-seed", "332-one-epoch-fewer", "toy-one-epoch-fewer"], workers=2)
    assert len(mutants) <= 1, mutants   # only one that began beside the check
