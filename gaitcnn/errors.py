"""The documented exception types of gaitcnn."""

from __future__ import annotations

__all__ = ["GaitDataError"]


class GaitDataError(ValueError):
    """Raised when input data are malformed: it names the file, the line and the problem.

    Parameters
    ----------
    problem : str
        What was expected and what was found.
    path : str or os.PathLike, optional
        The file (or folder) at fault.
    line : int, optional
        1-based line number in ``path`` where the problem was found.

    Examples
    --------
    >>> str(GaitDataError("expected 6 columns, found 5", path="a.csv", line=7))
    'a.csv, line 7: expected 6 columns, found 5'
    """

    def __init__(self, problem: str, *, path=None, line: int | None = None):
        self.problem = problem
        self.path = None if path is None else str(path)
        self.line = line
        where = ""
        if self.path is not None:
            where = self.path if line is None else f"{self.path}, line {line}"
        super().__init__(f"{where}: {problem}" if where else problem)
