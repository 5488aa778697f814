"""Where a number sits in a printed output: its line, an array element's index, a table's row and column."""


def place_of(read, index):
    """A short description of where token ``index`` of a read text (numbers.Tokens) sits ('' if unremarkable)."""
    return ""
