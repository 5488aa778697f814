"""Why a notebook cell raises now when its stored run did not, in words a user acts on.

:func:`explain` maps a fresh error (``"Ename: evalue"``) to a cause and a message:

- ``missing-module``: a module not installed in the Python that ran the notebook (the tool's own); the message
  names the distribution to install (import names that differ from their distribution's name come from
  :data:`DISTRIBUTIONS`) and the command;
- ``removed-api``: a name a library removed, with its replacement: NumPy's own table of expired names
  (``numpy._expired_attrs_2_0.__expired_attributes__``, read at run time when present, and NumPy 1.24's
  ``__former_attrs__``), :data:`PANDAS_REMOVED`, matplotlib's renamed ``seaborn-*`` styles, and a submodule
  or name gone from a package that is installed;
- ``missing-file``: a data file that is not where the notebook reads it;
- ``timeout``: a cell that ran longer than ``--timeout`` (:func:`explain_timeout`);
- ``error``: anything else (the error itself is the message).

:class:`Cascade` groups errors in later cells that follow from a first one (a ``NameError`` for a name the
failed cell should have defined, the same missing module imported again) under that first cause.
"""

import ast
import re
import sys

__all__ = ["CAUSES", "DISTRIBUTIONS", "PANDAS_REMOVED", "Cascade", "explain", "explain_timeout", "defined_names"]

CAUSES = ("missing-module", "removed-api", "missing-file", "timeout", "error")

#: import name -> distribution name, where they differ (pip installs distributions, notebooks import modules).
DISTRIBUTIONS = {
    "sklearn": "scikit-learn", "skimage": "scikit-image", "cv2": "opencv-python", "PIL": "Pillow",
    "yaml": "PyYAML", "bs4": "beautifulsoup4", "Bio": "biopython", "dateutil": "python-dateutil",
    "dotenv": "python-dotenv", "attr": "attrs", "jwt": "PyJWT", "serial": "pyserial", "Crypto": "pycryptodome",
    "OpenGL": "PyOpenGL", "gi": "PyGObject", "docx": "python-docx", "pptx": "python-pptx",
    "MySQLdb": "mysqlclient", "fitz": "PyMuPDF", "igraph": "python-igraph", "tensorflow_hub": "tensorflow-hub",
    "google.protobuf": "protobuf", "mpl_toolkits.basemap": "basemap", "osgeo": "GDAL", "umap": "umap-learn",
    "Levenshtein": "python-Levenshtein", "lightgbm": "lightgbm", "sentence_transformers": "sentence-transformers",
}

#: (class, name) -> (release that removed it, replacement). Sources: pandas 1.0.0 and 2.0.0 release notes,
#: "Removal of prior version deprecations/changes" (pandas.pydata.org/docs/whatsnew/v1.0.0.html and v2.0.0.html).
PANDAS_REMOVED = {
    ("DataFrame", "append"): ("2.0", "pd.concat([df, other])"),
    ("Series", "append"): ("2.0", "pd.concat([s, other])"),
    ("DataFrame", "iteritems"): ("2.0", "DataFrame.items()"),
    ("Series", "iteritems"): ("2.0", "Series.items()"),
    ("DataFrame", "lookup"): ("2.0", "DataFrame.melt() with .loc, or NumPy indexing on .to_numpy()"),
    ("DataFrame", "swapaxes"): ("2.0", "DataFrame.transpose()"),   # deprecated 2.1, removed 3.0
    ("Series", "is_monotonic"): ("2.0", "Series.is_monotonic_increasing"),
    ("Index", "is_monotonic"): ("2.0", "Index.is_monotonic_increasing"),
    ("DataFrame", "ix"): ("1.0", ".loc (by label) or .iloc (by position)"),
    ("Series", "ix"): ("1.0", ".loc (by label) or .iloc (by position)"),
    ("DataFrame", "as_matrix"): ("1.0", "DataFrame.to_numpy()"),
    ("DataFrame", "get_value"): ("1.0", "DataFrame.at[row, column]"),
    ("DataFrame", "set_value"): ("1.0", "DataFrame.at[row, column] = value"),
    ("pandas", "np"): ("2.0", "import numpy as np"),
    ("pandas", "datetime"): ("2.0", "import datetime"),
    ("pandas", "Panel"): ("1.0", "a DataFrame with a MultiIndex, or xarray"),
    ("pandas", "Int64Index"): ("2.0", "pd.Index(values, dtype='int64')"),
    ("pandas", "Float64Index"): ("2.0", "pd.Index(values, dtype='float64')"),
}

#: keyword -> (library and release that removed it, replacement). Sources: matplotlib API changes for 2.2
#: ("axisbg" removed; use facecolor) and 3.1 ("normed" removed from hist; use density), pandas 1.0.0 whatsnew
#: (concat's join_axes removed) and 2.0.0 whatsnew ("squeeze" of read_csv, "line_terminator" of to_csv).
KEYWORDS_REMOVED = {
    "axisbg": ("matplotlib 2.2", "facecolor=..."),
    "normed": ("matplotlib 3.1", "density=..."),
    "join_axes": ("pandas 1.0", "reindex the result: pd.concat(...).reindex(index)"),
    "squeeze": ("pandas 2.0", "read_csv(...).squeeze('columns')"),
    "line_terminator": ("pandas 2.0", "lineterminator=..."),
}

_NO_MODULE = re.compile(r"No module named '([^']+)'")
_CANNOT_IMPORT = re.compile(r"cannot import name '([^']+)' from '([^']+)'")
_NO_ATTRIBUTE = re.compile(r"(?:module )?'([\w.]+)'(?: object)? has no attribute '(\w+)'")
_NUMPY_REMOVED = re.compile(r"`np\.(\w+)` was removed")
_STYLE = re.compile(r"'(seaborn[\w-]*)' (?:is )?not (?:a valid package style|found in the style library)")
_NO_FILE = re.compile(r"No such file or directory: '([^']+)'|^(\S+) not found\.?$")
_NAME_ERROR = re.compile(r"name '(\w+)' is not defined")
_KEYWORD = re.compile(r"(?:(\w[\w.]*)\(\) )?got an unexpected keyword argument '(\w+)'")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _split(error):
    ename, _, evalue = error.partition(": ")
    return ename.strip(), evalue.strip()


def _version(distribution):
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _installed_distribution(top):
    """The installed distribution that provides import name ``top`` (importlib.metadata), or None."""
    from importlib import metadata

    try:
        names = metadata.packages_distributions().get(top)
    except Exception:   # noqa: BLE001 - a broken dist-info in site-packages must not hide the cause
        names = None
    return names[0] if names else None


def _distribution(module):
    for name in (module, module.split(".")[0]):
        if name in DISTRIBUTIONS:
            return DISTRIBUTIONS[name]
    return module.split(".")[0].replace("_", "-")


def _numpy_tables():
    """{name: NumPy's own message} for names NumPy removed: 2.0's expired attributes and 1.24's former aliases."""
    table = {}
    try:
        import numpy
    except ImportError:
        return table
    for name, message in getattr(numpy, "__former_attrs__", {}).items():   # np.float, np.int ... (1.24)
        table[name] = ("1.24", str(message).split("\n")[1] if "\n" in str(message) else str(message))
    try:
        from numpy._expired_attrs_2_0 import __expired_attributes__
    except ImportError:    # NumPy 1.x: no 2.0 table (and none of its names are gone yet)
        __expired_attributes__ = {}
    for name, message in __expired_attributes__.items():
        table[name] = ("2.0", str(message))
    return table


def _missing_module(module):
    top = module.split(".")[0]
    installed = _installed_distribution(top)
    if installed and module != top:
        version = _version(installed)
        return "removed-api", (f"{installed} {version or ''} is installed but has no module {module} (removed or "
                               f"moved in a later release); import it from its new place or install the "
                               f"{installed} release the notebook was written for").replace("  ", " ")
    dist = _distribution(module)
    return "missing-module", (f"the module {module} is not installed in the Python that runs the notebook "
                              f"({sys.executable}); install it: {sys.executable} -m pip install {dist}")


def explain(error, folder=None):
    """(cause, message) for a fresh error ``"Ename: evalue"`` (see the module docstring)."""
    ename, evalue = _split(error)
    if ename == "ModuleNotFoundError" or (ename == "ImportError" and _NO_MODULE.search(evalue)):
        m = _NO_MODULE.search(evalue)
        if m:
            return _missing_module(m.group(1))
    if ename == "ImportError":
        m = _CANNOT_IMPORT.search(evalue)
        if m:
            name, package = m.groups()
            dist = _installed_distribution(package.split(".")[0]) or package.split(".")[0]
            version = _version(dist)
            return "removed-api", (f"{package} has no name {name} in {dist} {version or '(installed)'}: it was "
                                   f"removed or moved; use its replacement (see {dist}'s release notes) or install "
                                   f"the release the notebook was written for")
    if ename == "AttributeError":
        m = _NUMPY_REMOVED.search(evalue) or (
            re.search(r"module 'numpy' has no attribute '(\w+)'", evalue))
        if m:
            found = _numpy_tables().get(m.group(1))
            if found:
                release, message = found
                return "removed-api", f"np.{m.group(1)} was removed in NumPy {release}: {message.strip()}"
        m = _NO_ATTRIBUTE.search(evalue)
        if m:
            owner, name = m.group(1).split(".")[-1], m.group(2)
            found = PANDAS_REMOVED.get((owner, name))
            if found:
                release, replacement = found
                where = f"pd.{name}" if owner == "pandas" else f"{owner}.{name}"
                return "removed-api", (f"{where} was removed in pandas {release} (pandas {_version('pandas') or '?'} "
                                       f"is installed): use {replacement}")
    if ename in ("TypeError", "AttributeError"):
        m = _KEYWORD.search(evalue)
        if m and m.group(2) in KEYWORDS_REMOVED:
            release, replacement = KEYWORDS_REMOVED[m.group(2)]
            call = f"{m.group(1)}()" if m.group(1) else "the call"
            return "removed-api", f"{release} removed the keyword {m.group(2)!r} ({call}): use {replacement}"
    if ename in ("OSError", "FileNotFoundError", "ValueError"):
        m = _STYLE.search(evalue)
        if m:
            style = m.group(1)
            new = "seaborn-v0_8" + style[len("seaborn"):]
            return "removed-api", (f"matplotlib 3.8 removed the style name {style!r} (renamed in 3.6 when seaborn "
                                   f"stopped shipping these styles): use plt.style.use({new!r})")
    if ename == "FileNotFoundError":
        m = _NO_FILE.search(evalue)
        name = (m.group(1) or m.group(2)) if m else None
        where = f" (relative paths are read from the notebook's folder, {folder})" if folder else ""
        if name:
            return "missing-file", (f"the data file {name} is not there{where}; put it there or change the path "
                                    f"in the cell")
        return "missing-file", f"a file the cell reads is not there{where}: {evalue[:200]}"
    return "error", f"{ename}: {evalue[:300]}" if evalue else ename


def explain_timeout(timeout):
    return "timeout", (f"a cell ran longer than --timeout {timeout:g} s; give a longer --timeout if it is slow, or "
                       f"look for a loop that never ends")


def failing_line(traceback):
    """The line of the cell's own code that raised, from the kernel's traceback lines (None if not found)."""
    text = _ANSI.sub("", "\n".join(traceback or []))
    m = re.search(r"Cell In\[\d*\], line (\d+)", text) or re.search(r"(?m)^-+> ?(\d+)", text)
    return int(m.group(1)) if m else None


def _tree(source):
    # magics and shell lines blanked, not removed: line numbers stay those of the cell
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    return ast.parse("\n".join(lines))


def used_names(source):
    """The names a cell reads without binding them itself first (an approximation: any read of a name the cell
    does not bind)."""
    try:
        tree = _tree(source)
    except SyntaxError:
        return set()
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return loaded - defined_names(source)


def defined_names(source, from_line=None):
    """The names a cell's code binds (assignments, imports, functions, classes); IPython magics ignored. With
    ``from_line``, only those bound by the statements that end on or after it (what a failure there left unbound)."""
    try:
        tree = _tree(source)
        if from_line is not None:
            tree = ast.Module(body=[node for node in tree.body if node.end_lineno >= from_line], type_ignores=[])
    except SyntaxError:         # not plain Python: fall back on 'name =' and 'import name' at line starts
        found = set(re.findall(r"(?m)^\s*([A-Za-z_]\w*)\s*=[^=]", source))
        found |= set(re.findall(r"(?m)^\s*import\s+(\w+)", source))
        return found
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
    return names


class Cascade:
    """Errors in later cells that follow from an earlier failed cell, grouped under its cause."""

    def __init__(self):
        self.failures = []      # [{"cell", "error", "cause", "detail", "grouped": [{"cell", "error"}]}]
        self._undefined = {}    # name -> index into failures
        self._modules = {}      # missing top-level module -> index into failures
        self._files = {}        # missing data file -> index into failures

    def follows(self, error, source=""):
        """(the failure (dict) this error follows from, why) or (None, None).

        It follows when it is a NameError for a name a failed cell should have bound, the same missing module or
        data file again, or any error in a cell that reads such a name (a frame the failed cell should have
        reloaded, say)."""
        ename, evalue = _split(error)
        m = _NAME_ERROR.search(evalue) if ename == "NameError" else None
        if m and m.group(1) in self._undefined:
            return self.failures[self._undefined[m.group(1)]], f"{m.group(1)} is not defined"
        m = _NO_MODULE.search(evalue) if ename in ("ModuleNotFoundError", "ImportError") else None
        if m and m.group(1).split(".")[0] in self._modules:
            return self.failures[self._modules[m.group(1).split(".")[0]]], "the same missing module"
        m = _NO_FILE.search(evalue) if ename == "FileNotFoundError" else None
        if m and (m.group(1) or m.group(2)) in self._files:
            return self.failures[self._files[m.group(1) or m.group(2)]], "the same missing file"
        stale = sorted(used_names(source) & set(self._undefined))
        if stale:
            return self.failures[self._undefined[stale[0]]], f"reads {stale[0]}, which that cell should have set"
        return None, None

    def add(self, cell, source, error, folder=None, traceback=None):
        """Record a cell that raises now: grouped under an earlier failure, or a new one; returns the failure."""
        first, why = self.follows(error, source)
        if first is None:
            cause, detail = explain(error, folder)
            first = {"cell": cell, "error": error, "cause": cause, "detail": detail, "grouped": []}
            self.failures.append(first)
            m = _NO_MODULE.search(error)
            if m:
                self._modules[m.group(1).split(".")[0]] = len(self.failures) - 1
            ename, evalue = _split(error)
            m = _NO_FILE.search(evalue) if ename == "FileNotFoundError" else None
            if m:
                self._files[m.group(1) or m.group(2)] = len(self.failures) - 1
            line = failing_line(traceback)
        else:
            first["grouped"].append({"cell": cell, "error": error, "why": why})
            line = failing_line(traceback)
        index = self.failures.index(first)
        for name in defined_names(source, line):     # what this cell should have defined is missing too
            self._undefined.setdefault(name, index)
        return first
