"""The console renderer: what each command prints on stdout, read from its verdict record (or the summaries a
source handed back) only."""

from backprop_repro.core.record import NON_FAILING

__all__ = ["check_summary", "check_tail", "sweep_summary", "cpu_drift_summary", "selftest_summary",
           "notebook_selftest_summary",
           "notebook_summary", "bench_summary", "compare_summary", "pin_line", "pins_update_summary", "wrote"]


def wrote(paths, suffix=""):
    print("wrote " + ", ".join(str(p) for p in paths) + suffix)


def _short(value):
    if isinstance(value, list):
        return " ".join(value) or "-"
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items()) or "none"
    return str(value)


def _environment_notes(record):
    differs = dict(record["environment"].get("differs_from_pins") or {})
    judged = "compared bitwise all the same (--strict)" if record.get("strict") else "judged by the policies all the same"
    cpu_path = [(key, differs.pop(key)) for key in ("simd_targets", "blas_core", "settings") if key in differs]
    differs.pop("simd", None)   # the features follow from the CPU line; the targets in use say what matters
    if cpu_path:
        made = "; ".join(f"{key} {_short(entry['now'])} (pins: {' | '.join(entry['pins'])})" for key, entry in cpu_path)
        print(f"note: the CPU path differs from the pins': {made}; {judged} "
              f"(`backprop-repro drift --cpu` measures what that changes)")
    for key, entry in differs.items():
        made = "; ".join(f"{value} ({', '.join(ids)})" for value, ids in entry["pins"].items())
        print(f"note: running under {key} {entry['now']}, pins were made under {made}; {judged}")


def _quantity_table(record):
    by_example = {}
    for r in record["results"]:
        by_example.setdefault(r["example"], []).append(r)
    print(f"{'example':<20} {'quantities':>10} {'pass':>5} {'fail':>5} {'missing':>8} {'error':>6} {'seconds':>8}")
    for e in record["examples"]:
        rs = by_example.get(e["example"], [])
        count = {s: sum(r["status"] == s for r in rs) for s in ("pass", "fail", "missing-pin", "error")}
        print(f"{e['example']:<20} {len(rs):>10} {count['pass']:>5} {count['fail']:>5} {count['missing-pin']:>8} "
              f"{count['error']:>6} {e['seconds']:>8.2f}")
    for r in record["results"]:
        if r["status"] != "pass":
            print(f"  {r['status'].upper()} {r['example']}:{r['quantity']}: {r['message']}")
    for e in record["examples"]:
        if e["warnings_status"] != "pass":
            print(f"  FAIL {e['example']}: warnings: {e['warnings_note']}")


def _document_values(record):
    dvs = record["document_values"]
    if not dvs:
        print("document values: none printed for the examples checked")
        return
    as_reviewed = sum(d["outcome"] != "reproduced" and d["status"] == "pass" for d in dvs)
    print(f"document values: {sum(d['outcome'] == 'reproduced' for d in dvs)} of {len(dvs)} reproduced at printed "
          f"precision" + (f" ({as_reviewed} not reproduced, as reviewed)" if as_reviewed else "")
          + f", {sum(d['status'] != 'pass' for d in dvs)} differ from the reviewed outcome")
    for d in dvs:
        if d["status"] != "pass":
            print(f"  FAIL {d['document']} {d['example']}:{d['quantity']}{d['index']}: printed {d['printed']}, "
                  f"got {d['actual']} ({d['outcome']}, reviewed {d['expected_outcome']})")


def _claims(record):
    verdicts = {}
    for c in record["claims"]:
        verdicts[c["verdict"]] = verdicts.get(c["verdict"], 0) + 1
    changed = sum(c["status"] not in NON_FAILING for c in record["claims"])
    if not record["claims"]:   # an example without claims, or a run filtered to such examples
        print("claims: none for the examples checked")
        return
    print(f"claims: {len(record['claims'])} checked: " + ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items()))
          + ("; every verdict as reviewed" if not changed else f"; {changed} differ from the reviewed verdict"))
    for c in record["claims"]:
        if c["status"] == "unavailable":
            print(f"  unavailable: claim {c['id']}: {c['note']}")
    for c in record["claims"]:
        if c["status"] not in ("pass", "unavailable"):   # unavailable ones are listed just above
            print(f"  {c['status'].upper()} claim {c['id']}: {c['verdict']} (reviewed {c['expected_verdict']}): "
                  f"{c['note']}")


def check_summary(record):
    """The body of ``check``'s output: environment notes, the per-example table, printed values and claims."""
    _environment_notes(record)
    _quantity_table(record)
    _document_values(record)
    _claims(record)


def check_tail(record, written):
    """The end of ``check``'s output: the determinism probe, bench gates, files written and the verdict line."""
    if "determinism" in record:
        d = record["determinism"]
        print(f"determinism: {d['repeats']} separate processes, {len(d['differences'])} quantities differ in some bit"
              + "".join(f"\n  FAIL {x['example']}:{x['quantity']} differs in run {x['run']}" for x in d["differences"]))
    for gate in (record.get("bench") or {}).get("gates", []):
        print(f"bench gate {gate['name']} [{gate['subject']}]: {gate['status']}")
    wrote(written)
    if record.get("strict"):
        print("strict: every quantity compared bitwise")
    print("PASS: everything holds" if not record.failing() else "FAIL: regression (exit 1); see the lines above")


def _backend_line(stats):
    a = stats["backend"]["agreement_with_numpy"]
    print(f"  backend {stats['backend']['name']} {stats['backend']['version']} (not bitwise: its exp is not NumPy's): "
          f"on {a['seeds_checked']} seeds against the faithful NumPy path, {a['bitwise_share']:.1%} bit-identical, "
          f"median {a['median_ulp']:.0f} ULP, 99th percentile {a['p99_ulp']:.0f} ULP, max {a['max_ulp']:.0f} ULP "
          f"({a['max_rel']:.2g} relative, seed {a['worst_seed']})")


def sweep_summary(example_id, stats, n_requested, rerun):
    """A sweep's statistics; ``rerun`` the command that re-runs one failing seed alone (or None)."""
    if stats["backend"]["name"] != "numpy" and stats["backend"]["agreement_with_numpy"]:
        _backend_line(stats)
    n = stats["n_seeds"]
    print(f"{example_id}: {n} seeds x {stats['iterations']} iterations in {stats['seconds']} s"
          + (f" (PARTIAL: interrupted after {n} of {n_requested} seeds)" if stats["partial"] else ""))
    for t, c in stats["convergence"].items():
        low, high = c["wilson95"]
        print(f"  converged within {t}: {c['converged']}/{n} = {c['rate']:.4f} (Wilson 95% {low:.4f}-{high:.4f}); "
              f"failures: {len(stats['failures'][t])} seeds, first {stats['failures'][t][:10]}")
    if rerun:
        print(f"  re-run one failing seed alone: {rerun}")
    if "document" in stats:
        d = stats["document"]
        print(f"  printed output {d['printed']}: percentiles {[round(p, 1) for p in d['percentiles']]}; "
              f"seeds at least as good as the document's run: {d['share_at_least_as_good']:.4f}")
    if "pinned_seed" in stats:
        p = stats["pinned_seed"]
        print(f"  seed {p['seed']} (the pinned run): max error {p['max_error']:.4g}, percentile "
              f"{p['percentile_of_max_error']:.1f}")
    print("  " + _sweep_verdict(stats))


def _sweep_verdict(stats):
    """The sample's own verdict, never read as the run's outcome: the pin line printed after it sets the exit code
    (a few seeds' "not-reproduced" is not judged against a pin of thousands, and "reproduced" can stand beside a
    statistic out of its bound)."""
    verdict, rule, n = stats["verdict"], stats["verdict_rule"], stats["n_seeds"]
    if verdict == "no-printed-values":
        return f"verdict: {verdict} ({rule})"
    why = rule if verdict == "reproduced-statistically" else (f"reproduced-statistically needs {rule}: see the "
                                                              f"percentiles above")
    return (f"verdict of these {n} seed{'' if n == 1 else 's'}: {verdict} ({why}); the pin line below sets the exit "
            f"code")


def cpu_drift_summary(record, out):
    summary = record.summaries
    largest, example, quantity = summary["largest"]
    print(f"configurations run: {', '.join(summary['configurations']) or 'none'}")
    for name, reason in summary["skipped"]:
        print(f"skipped {name}: {reason}")
    for note in summary.get("notes", ()):
        print(f"note: {note}")
    print(f"{summary['bit_identical']} of {summary['quantities']} quantities bit-identical across the configurations "
          f"run; largest drift {largest} ULP ({example}:{quantity})")
    if summary["failed"]:
        print(f"FAIL: the default check fails under {', '.join(summary['failed'])}")
    else:
        print(f"PASS: the default check holds under every configuration that ran ({len(summary['configurations'])} "
              f"run, {len(summary['skipped'])} skipped)")
    wrote([out / "cpu_drift.csv", out / "cpu_drift.html", out / "cpu_drift.json"])


def _mutation_line(r):
    state = ("equiv.  " if r["equivalent_here"] and not r["killed_strict"] else
             "killed  " if r["killed_default"] else "strict  " if r["killed_strict"] else "SURVIVED")
    print(f"{state} {r['id']:<38} {r['why']}" + (f"\n         {r['caught_by'][0][:150]}" if r["caught_by"] else "")
          + (f"\n         default survivor: {r['expected_default_survivor']}" if not r["killed_default"] and
             r["expected_default_survivor"] else "")
          + (f"\n         equivalent here ({r['equivalent_here']})" if r["equivalent_here"] else ""))


def selftest_summary(record, out):
    """Every mutation, the kill rates and the survivors without a recorded reason."""
    s = record.summaries
    for r in record["mutations"]:
        _mutation_line(r)
    print(f"kill rate: default {s['killed_default']}/{s['scored']} = {100 * record['kill_rate_default']:.0f}%, strict "
          f"{s['killed_strict']}/{s['scored']} = {100 * record['kill_rate_strict']:.0f}%"
          + (f" ({record['equivalent_here']} equivalent here, proved bit-identical and not counted)"
             if record["equivalent_here"] else ""))
    wrote([out / "selftest.json"])
    if record["unexplained_survivors"]:
        print(f"FAIL: survivors without a recorded reason, or 'equivalent' mutants that changed bits: "
              f"{', '.join(record['unexplained_survivors'])}")


def notebook_selftest_summary(record, out):
    """Every change to the stored outputs (killed with the expected kind, or not), every equivalence, the kill rate
    and the false alarms."""
    nb = record["notebooks"]
    for r in nb["mutations"]:
        print(f"{'killed  ' if r['killed'] else 'SURVIVED'} {r['id']:<26} {r['expected_kind']:<8} found "
              f"{', '.join(r['kinds_found']) or 'nothing'} ({r['verdict']}): {r['why']}")
    for r in nb["equivalences"]:
        print(f"{'passed  ' if r['passed'] else 'ALARM   '} {r['id']:<26} {', '.join(r['excused_by']) or '-':<17} "
              f"{r['why']}" + (f"\n         {r['alarm'][:150]}" if r["alarm"] else ""))
    rate = f"{100 * nb['kill_rate']:.0f}%" if nb["kill_rate"] is not None else "-"
    print(f"notebook checker: kill rate {nb['killed']}/{nb['mutations_total']} = {rate}, false alarms "
          f"{nb['false_alarms']} of {nb['equivalences_total']} equivalences (one fresh run of {nb['notebook']}: "
          f"{nb['seconds_fresh_run']:.1f} s, judging {nb['seconds_judging']:.1f} s)")
    wrote([out / "selftest.json"])
    if nb["survivors"] or nb["false_alarm_ids"]:
        print("FAIL: " + "; ".join(part for part in (
            f"survived: {', '.join(nb['survivors'])}" if nb["survivors"] else "",
            f"false alarms: {', '.join(nb['false_alarm_ids'])}" if nb["false_alarm_ids"] else "") if part))


def notebook_summary(record, strict_digits, out, reused=0):
    for nb in record["notebooks"]:
        kinds = ", ".join(f"{n} {k}" for k, n in nb["kinds"].items() if n) or "no differences"
        print(f"{nb['verdict']:<25} {nb['path']}: {nb['numbers_reproduced']} of {nb['numbers_compared']} numbers "
              f"reproduced; {kinds}" + (f"; cause {nb['cause']}: {nb['cause_detail']}" if nb.get("cause") else "")
              + (f"; not run: {nb['reason']}" if nb.get("reason") else ""))
        if nb.get("coverage"):
            print(f"  {nb['coverage']}")
        for d in nb["differences"]:
            if d["kind"] in ("numeric", "text", "error", "missing", "added") or (d["kind"] == "rounding"
                                                                                 and strict_digits):
                print(f"  cell {d['cell']} {d['output']}: {d['kind']}: stored {d['stored'][:60]!r}, fresh "
                      f"{d['fresh'][:60]!r}: {d['explanation']}")
    for note in record.get("skipped", []):
        print(f"note: {note}")
    if record.get("summary"):
        s = record["summary"]
        line = "corpus: " + ", ".join(f"{s[k]:g} {label}" for k, label in SUMMARY_LABELS)
        if s["crashed_by_cause"]:
            line += "; crashed by cause: " + ", ".join(f"{n} {c}" for c, n in s["crashed_by_cause"].items())
        if s["missing_modules"]:
            line += "; missing modules: " + ", ".join(f"{n} {m}" for m, n in s["missing_modules"].items())
        print(line + (f"; {reused} reused from the journal of an interrupted run" if reused else ""))
    for nb in record["notebooks"]:
        if (nb.get("worker") or {}).get("differs"):
            print(f"note: {nb['path']} ran on {nb['worker']['address']}, whose "
                  f"{', '.join(nb['worker']['differs'])} differ from this machine's")
    wrote([out / "notebooks.json", out / "notebook_numbers.csv", out / "notebooks.html"])


def bench_summary(lines, scaling, record, out):
    print("\n".join(lines))
    for row in scaling.itertuples():
        print(f"scaling {row.method:<24} exponent {row.exponent:5.2f}  R^2 {row.r2:.3f}  (P {row.p_min}..{row.p_max})")
    for g in record.observations:
        print(f"gate {g.subject} [{g.where}]: measured {g.actual:.3g}, threshold {g.expected:g}: "
              f"{'pass' if g.status == 'pass' else 'FAIL'} {g.note}".rstrip())
    wrote([out / "bench.csv", out / "bench.json", out / "scaling.csv", out / "gates.csv"])


def compare_summary(record, out):
    for label, c in record.summaries.items():
        print(f"{label}: " + ", ".join(f"{n} {k}" for k, n in c.items()))
    print(f"wrote {out / 'drift.html'}, {out / 'drift.csv'}")


def pin_line(observation):
    """One regenerated pin's outcome (with the diff when it changed)."""
    print(observation.note)


def pins_update_summary(record, pins_dir, tracked):
    """What to do next when pins changed (``tracked``: git tracks every changed pin file, so its diff shows the
    change; a new pin is untracked and gets the other advice)."""
    changed = [o.subject for o in record.observations if o.status == "fail"]
    if not changed:
        return
    if tracked:
        import shlex

        print(f"{len(changed)} pin file(s) changed: {', '.join(changed)}. Review with "
              f"`git -C {shlex.quote(str(pins_dir))} diff -- .` and commit; exit 1 so that a regeneration is never "
              f"silent.")
    else:
        print(f"{len(changed)} pin file(s) changed: {', '.join(changed)}. git does not track them in {pins_dir}: "
              f"review the differences printed above, as nothing else keeps the old values (in a repository, `git "
              f"add` a new pin); exit 1 so that a regeneration is never silent.")


#: The corpus summary's fields and their words (console and HTML).
SUMMARY_LABELS = (("found", "notebooks found"), ("valid", "valid"), ("skipped", "skipped (not Python)"),
                  ("run", "run"), ("with_stored_outputs", "with stored outputs"),
                  ("ran_without_error", "ran without error"), ("reproduced", "reproduced"),
                  ("reproduced_statistically", "reproduced statistically"), ("not_reproduced", "not reproduced"),
                  ("no_stored_outputs", "no stored outputs"), ("crashed", "crashed"), ("timed_out", "timed out"),
                  ("numbers_stored", "numbers stored"), ("numbers_compared", "numbers compared"),
                  ("numbers_reproduced", "numbers reproduced"), ("seconds_median", "median seconds per notebook"),
                  ("seconds_total", "total seconds"))
