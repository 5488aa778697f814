"""notebooks.json, notebook_numbers.csv and notebooks.html of a `notebook` record."""


def write_outputs(record, out):
    """notebooks.json, notebook_numbers.csv (one row per number) and notebooks.html into ``out``."""
    import csv
    import io
    import json

    from backprop_repro.store import atomic
    from backprop_repro.core import values

    slim = {**record, "notebooks": [{k: v for k, v in nb.items() if k != "cells"} for nb in record["notebooks"]]}
    atomic.write_text(out / "notebooks.json", json.dumps(values.json_safe(slim), indent=1, allow_nan=False) + "\n")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["notebook", "cell", "output", "stored", "fresh", "kind", "fresh_runs", "place"])
    for nb in record["notebooks"]:
        for r in nb["numbers"]:
            writer.writerow([nb["path"], r["cell"], r["output"], r["stored"], r["fresh"], r["kind"],
                             " ".join(r["fresh_runs"]), r.get("place", "")])
    atomic.write_text(out / "notebook_numbers.csv", buffer.getvalue())
    atomic.write_text(out / "notebooks.html", _html(record))


def _highlight(text, marks):
    """HTML of a text with the given spans [(start, end, kind)] marked by their comparison kind."""
    from markupsafe import escape

    out, last = [], 0
    for start, end, kind in sorted(marks):
        if start < last:
            continue
        out.append(str(escape(text[last:start])))
        out.append(f'<mark class="{escape(kind)}">{escape(text[start:end])}</mark>')
        last = end
    out.append(str(escape(text[last:])))
    return "".join(out)


def _image_src(mime, payload):
    return f"data:{mime};base64,{payload}" if payload else ""


def _html(record):
    from jinja2 import Environment, select_autoescape
    from markupsafe import Markup

    views = []
    for nb in record["notebooks"]:
        cells = []
        for cell in nb["cells"]:
            rows = []
            if "outputs" in cell:          # compared: the texts as compared, the differing numbers marked
                for v in cell["outputs"]:
                    if v["image"]:
                        rows.append({"label": v["label"], "image": True, "stored": _image_src(v["mime"], v["stored"]),
                                     "fresh": _image_src(v["mime"], v["fresh"]) if v["fresh"] is not None else None})
                    else:
                        rows.append({"label": v["label"], "image": False,
                                     "stored": (Markup(_highlight(v["stored"], v["stored_marks"]))
                                                if v["stored"] is not None else None),
                                     "fresh": (Markup(_highlight(v["fresh"], v["fresh_marks"]))
                                               if v["fresh"] is not None else None)})
            else:                          # ignored, or not compared: shown as stored
                for lab, kind, payload in cell["stored"]:
                    fresh = next((p for l2, k2, p in cell["fresh"] if l2 == lab), None)
                    image = kind == "image"
                    rows.append({"label": lab, "image": image,
                                 "stored": _image_src("image/png", payload) if image else payload,
                                 "fresh": (_image_src("image/png", fresh) if image else fresh)
                                 if fresh is not None else None})
            diffs = [d for d in nb["differences"] if d["cell"] == cell["cell"]]
            cells.append({"cell": cell["cell"], "source": cell["source"], "rows": rows, "diffs": diffs,
                          "ignored": cell["ignored"]})
        views.append({**nb, "cell_views": cells})
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    from backprop_repro.render.console import SUMMARY_LABELS

    return env.from_string(_TEMPLATE).render(record=record, views=views, summary_labels=SUMMARY_LABELS,
                                             runs_had=_runs_had(record["notebooks"]))


def _runs_had(notebooks):
    """[(fresh runs, the notebooks that had them)], most runs first: the runs each notebook really had (a crash
    runs once, a notebook not run none, one whose numbers vary up to --stat-runs)."""
    by_runs = {}
    for nb in notebooks:
        by_runs.setdefault(nb["runs"], []).append(nb["path"])
    return [(n, ", ".join(paths) if len(paths) <= 8 else f"{len(paths)} notebooks")
            for n, paths in sorted(by_runs.items(), reverse=True)]


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>backprop-repro notebooks</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1280px;padding:0 1.2em 3em;color:#1d232b}
table{border-collapse:collapse;width:100%;font-size:12.5px;margin:.4em 0 1em}th,td{border-bottom:1px solid #e3e7ed;padding:.25em .45em;text-align:left;vertical-align:top}
pre{margin:0;white-space:pre-wrap;font-size:12px}.cols{display:grid;grid-template-columns:1fr 1fr;gap:.6em}
mark.rounding{background:#fff4ce}mark.numeric{background:#f8d7da}mark.nondeterministic{background:#e0e7ff}mark.missing,mark.added{background:#f3d9fa}
.reproduced,.reproduced-statistically,.no-stored-outputs{color:#17663a}.not-reproduced,.crashed{color:#b3261e;font-weight:600}
img{max-width:100%;border:1px solid #e3e7ed}.cell{border:1px solid #d5dbe3;border-radius:6px;padding:.5em .7em;margin:.6em 0}
code.src{display:block;white-space:pre-wrap;background:#f6f8fa;padding:.3em;font-size:12px}
</style></head><body>
<h1>Notebooks: stored outputs against fresh runs</h1>
<p>Python {{ record.environment.python }}, NumPy {{ record.environment.numpy }}; {{ record.runs }} fresh run(s) asked
per notebook, more (up to {{ record.stat_runs }} in all) where numbers vary between runs; a notebook that crashed runs
once, one not run none. Runs each notebook really had: {% for n, paths in runs_had %}<span class="runs-had">{{ n }}:
{{ paths }}</span>{% if not loop.last %}; {% endif %}{% endfor %}.</p>
<p>
Numbers are compared at the stored value's printed precision: <mark class="rounding">one unit in the last digit</mark>,
<mark class="numeric">more</mark>, <mark class="nondeterministic">varies between fresh runs</mark>,
<mark class="missing">no fresh partner</mark>, <mark class="added">new in the fresh run</mark>. Only differing numbers
are marked; masked (cosmetic) parts such as timings are not compared and not marked.</p>
{% if record.summary %}<h2>Corpus</h2><table class="summary">{% for key, label in summary_labels %}<tr><th>{{ label }}</th><td class="{{ key }}">{{ record.summary[key] }}</td></tr>{% endfor %}
{% if record.summary.crashed_by_cause %}<tr><th>crashed by cause</th><td>{% for c, n in record.summary.crashed_by_cause.items() %}{{ n }} {{ c }}{% if not loop.last %}, {% endif %}{% endfor %}</td></tr>{% endif %}
{% if record.summary.missing_modules %}<tr><th>missing modules</th><td>{% for m, n in record.summary.missing_modules.items() %}{{ n }} {{ m }}{% if not loop.last %}, {% endif %}{% endfor %}</td></tr>{% endif %}
</table>{% endif %}
<table><tr><th>notebook</th><th>verdict</th><th>cause</th><th>fresh runs</th><th>numbers reproduced</th><th>stored numbers compared</th><th>differences by kind</th></tr>
{% for nb in views %}<tr><td><a href="#nb{{ loop.index }}">{{ nb.path }}</a></td><td class="{{ nb.verdict }}">{{ nb.verdict }}</td>
<td>{{ nb.cause or "" }}</td><td>{{ nb.runs }}</td><td>{{ nb.numbers_reproduced }} of {{ nb.numbers_compared }}</td><td>{{ nb.coverage or "" }}</td><td>{% for k, n in nb.kinds.items() if n %}{{ n }} {{ k }} {% endfor %}</td></tr>{% endfor %}
</table>
{% for nb in views %}<section id="nb{{ loop.index }}"><h2>{{ nb.path }}: <span class="{{ nb.verdict }}">{{ nb.verdict }}</span>
<small class="runs">({{ nb.runs }} fresh run{{ "" if nb.runs == 1 else "s" }})</small></h2>
{% if nb.cause %}<p class="crashed">cause: {{ nb.cause }}: {{ nb.cause_detail }}</p>
{% for f in nb.failures if f.grouped %}<p>cell {{ f.cell }}'s failure also fails cells {% for g in f.grouped %}{{ g.cell }}{% if not loop.last %}, {% endif %}{% endfor %} (listed under it)</p>{% endfor %}{% endif %}
{% if nb.reason %}<p>not run: {{ nb.reason }}</p>{% endif %}
{% if nb.coverage %}<p class="coverage">{{ nb.coverage }}</p>{% endif %}
{% for c in nb.cell_views %}<div class="cell"><b>cell {{ c.cell }}</b>{% if c.ignored %} (outputs ignored by its tag){% endif %}
<code class="src">{{ c.source }}</code>
{% for r in c.rows %}<div class="cols"><div><i>stored {{ r.label }}</i>{% if r.stored is none %}<p>(none)</p>{% elif r.image %}<img alt="stored" src="{{ r.stored }}">{% else %}<pre>{{ r.stored }}</pre>{% endif %}</div>
<div><i>fresh</i>{% if r.fresh is none %}<p>(none)</p>{% elif r.image %}<img alt="fresh" src="{{ r.fresh }}">{% else %}<pre>{{ r.fresh }}</pre>{% endif %}</div></div>{% endfor %}
{% if c.diffs %}<table><tr><th>kind</th><th>stored</th><th>fresh</th><th>explanation</th></tr>
{% for d in c.diffs %}<tr><td>{{ d.kind }}</td><td><code>{{ d.stored[:120] }}</code></td><td><code>{{ d.fresh[:120] }}</code></td><td>{{ d.explanation }}</td></tr>{% endfor %}</table>{% endif %}
</div>{% endfor %}</section>{% endfor %}
</body></html>
"""
