"""Crash causes (backprop_repro.notebooks.causes): each table entry and each cause from the error text a kernel
sends, and the grouping of later errors under the first."""

import sys

import numpy as np
import pytest

from backprop_repro.notebooks import causes as C


@pytest.mark.parametrize("error,cause,needles", [
    ("ModuleNotFoundError: No module named 'statsmodels'", "missing-module", ["statsmodels", "pip install statsmodels"]),
    ("ModuleNotFoundError: No module named 'sklearn'", "missing-module", ["pip install scikit-learn"]),
    ("ModuleNotFoundError: No module named 'cv2.aruco'", "missing-module", ["pip install opencv-python"]),
    ("ModuleNotFoundError: No module named 'numpy.distutils'", "removed-api", ["numpy", "is installed"]),
    ("ImportError: cannot import name 'nosuchname' from 'numpy' (/x/numpy/__init__.py)", "removed-api",
     ["nosuchname", "numpy"]),
    ("AttributeError: 'DataFrame' object has no attribute 'append'", "removed-api", ["pd.concat", "pandas 2.0"]),
    ("AttributeError: 'Series' object has no attribute 'iteritems'", "removed-api", ["Series.items()"]),
    ("AttributeError: module 'pandas' has no attribute 'np'", "removed-api", ["import numpy"]),
    ("OSError: 'seaborn-whitegrid' is not a valid package style, path of style file, URL of style file, or library "
     "style name (library styles are listed in `style.available`)", "removed-api", ["'seaborn-v0_8-whitegrid'"]),
    ("FileNotFoundError: [Errno 2] No such file or directory: 'data/train.csv'", "missing-file", ["data/train.csv"]),
    ("FileNotFoundError: nofile.txt not found.", "missing-file", ["nofile.txt"]),
    ("ZeroDivisionError: division by zero", "error", ["ZeroDivisionError: division by zero"]),
    ("AttributeError: 'DataFrame' object has no attribute 'colour'", "error", ["colour"]),
])
def test_causes_from_error_text(error, cause, needles):
    got, message = C.explain(error, folder="/nb")
    assert got == cause, message
    assert all(n in message for n in needles), message


def test_a_missing_module_is_installed_into_the_python_that_runs_the_notebook():
    _, message = C.explain("ModuleNotFoundError: No module named 'statsmodels'")
    assert f"{sys.executable} -m pip install statsmodels" in message


def test_numpy_2_removed_names_come_from_numpys_own_table():
    if np.__version__.startswith("1."):      # no 2.0 table, and none of its names are gone: nothing claimed
        assert not [v for v in C._numpy_tables().values() if v[0] == "2.0"]
        return
    from numpy._expired_attrs_2_0 import __expired_attributes__

    for error in ("AttributeError: `np.float_` was removed in the NumPy 2.0 release. Use `np.float64` instead.",
                  "AttributeError: module 'numpy' has no attribute 'float_'"):
        cause, message = C.explain(error)
        assert cause == "removed-api" and "np.float64" in message and "NumPy 2.0" in message
    # every entry of NumPy's table is found, with NumPy's own words
    for name, text in list(__expired_attributes__.items())[:10]:
        cause, message = C.explain(f"AttributeError: module 'numpy' has no attribute '{name}'")
        assert cause == "removed-api" and text.strip() in message


def test_numpy_1_24_aliases_and_an_unknown_numpy_name():
    cause, message = C.explain("AttributeError: module 'numpy' has no attribute 'float'.\n`np.float` was a "
                               "deprecated alias for the builtin `float`.")
    assert cause == "removed-api" and "NumPy 1.24" in message and "float" in message
    assert C.explain("AttributeError: module 'numpy' has no attribute 'not_a_numpy_name'")[0] == "error"


def test_timeout():
    cause, message = C.explain_timeout(2.5)
    assert cause == "timeout" and "--timeout 2.5" in message


def test_defined_names_and_magics():
    names = C.defined_names("%matplotlib inline\nimport statsmodels.api as sm\nfrom x import y as z\n"
                            "df = sm.load()\nfor i in range(3): pass\ndef f(): pass\nclass K: pass\n!ls")
    assert {"sm", "z", "df", "i", "f", "K"} <= names
    assert "x" not in names and "y" not in names
    assert {"a", "np"} <= C.defined_names("a = 1\nimport np\nthis is not python")


def test_later_errors_that_follow_from_the_first_are_grouped_under_it():
    cascade = C.Cascade()
    first = cascade.add(1, "import statsmodels.api as sm\nmodel = sm.OLS", "ModuleNotFoundError: No module named "
                        "'statsmodels'")
    assert first["cause"] == "missing-module"
    assert cascade.add(2, "fit = model.fit()", "NameError: name 'model' is not defined") is first
    assert cascade.add(3, "print(fit.params)", "NameError: name 'fit' is not defined") is first   # transitively
    assert cascade.add(4, "import statsmodels.formula.api", "ModuleNotFoundError: No module named "
                       "'statsmodels.formula'") is first
    # an unrelated failure is its own cause, and a NameError for a name nobody failed to define is not grouped
    other = cascade.add(5, "open('data.csv')", "FileNotFoundError: [Errno 2] No such file or directory: 'data.csv'")
    assert other is not first and other["cause"] == "missing-file"
    typo = cascade.add(6, "print(modle)", "NameError: name 'modle' is not defined")
    assert typo is not first and typo["cause"] == "error"
    assert [g["cell"] for g in first["grouped"]] == [2, 3, 4] and len(cascade.failures) == 3


@pytest.mark.parametrize("error,needle", [
    ("AttributeError: Axes.set() got an unexpected keyword argument 'axisbg'", "facecolor"),
    ("AttributeError: Rectangle.set() got an unexpected keyword argument 'normed'", "density"),
    ("TypeError: concat() got an unexpected keyword argument 'join_axes'", "reindex"),
])
def test_removed_keywords(error, needle):
    cause, message = C.explain(error)
    assert cause == "removed-api" and needle in message
    assert C.explain(error.replace("'axisbg'", "'colour'").replace("'normed'", "'x'").replace("'join_axes'",
                                                                                               "'y'"))[0] == "error"


def test_the_failing_line_limits_what_a_cell_left_unbound():
    traceback = ["\x1b[0;31m-----\x1b[0m", "Cell \x1b[0;32mIn[4], line 3\x1b[0m", "      1 import numpy as np"]
    assert C.failing_line(traceback) == 3
    assert C.failing_line(["<ipython-input-3-x> in <module>", "----> 2 import seaborn"]) == 2
    assert C.failing_line(None) is None
    source = "import numpy as np\nx = 1\ndf = pd.read_csv('gone.csv')\ny = df.x"
    assert C.defined_names(source, 3) == {"df", "y"}          # np and x were bound before the failure
    cascade = C.Cascade()
    cascade.add(0, source, "FileNotFoundError: [Errno 2] No such file or directory: 'gone.csv'", traceback=traceback)
    assert cascade.follows("NameError: name 'np' is not defined")[0] is None
    assert cascade.follows("NameError: name 'y' is not defined")[0] is cascade.failures[0]


def test_errors_in_cells_that_read_what_a_failed_cell_should_have_set_are_grouped():
    cascade = C.Cascade()
    first = cascade.add(3, "data = pd.read_csv('marathon.csv')", "FileNotFoundError: [Errno 2] No such file or "
                        "directory: 'marathon.csv'")
    assert cascade.add(5, "data['split'].mean()", "KeyError: 'split'") is first          # a stale frame read
    assert first["grouped"][0]["why"] == "reads data, which that cell should have set"
    assert cascade.add(6, "data = pd.read_csv('marathon.csv', sep=';')", "FileNotFoundError: [Errno 2] No such "
                       "file or directory: 'marathon.csv'") is first                    # the same file again
    other = cascade.add(7, "other = 1 / 0", "ZeroDivisionError: division by zero")     # reads nothing stale
    assert other is not first
    rebinds = cascade.add(8, "data = load()\ndata.x", "AttributeError: x")               # binds data itself first
    assert rebinds is not first
