"""The ways a computation refuses: bad input, a solver that did not converge, a user's claim file that fails.

Each keeps the arguments it was built from, so that it survives pickling: an error raised in a worker
process (a local pool, a Dask worker) reaches the caller as the same error with the same message.
"""


class RmtVerifyError(Exception):
    """Base class of every error rmtverify raises on purpose."""


class InputError(RmtVerifyError, ValueError):
    """A parameter outside its allowed range; the message names both."""

    def __init__(self, parameter: str, message: str):
        self.parameter = parameter
        self.message = message
        super().__init__(f"{parameter}: {message}")

    def __reduce__(self):
        return (type(self), (self.parameter, self.message))


class SolverError(RmtVerifyError, RuntimeError):
    """A solver that did not converge; ``tried`` says what it attempted."""

    def __init__(self, what: str, tried: str):
        self.what = what
        self.tried = tried
        super().__init__(f"{what} did not converge; tried {tried}")

    def __reduce__(self):
        return (type(self), (self.what, self.tried))


class ClaimFileError(RmtVerifyError, ValueError):
    """A user's claim or derivation file that cannot be used: it names the file, the function and the point."""

    def __init__(self, path: str, where: str, message: str):
        self.path, self.where, self.message = path, where, message
        super().__init__(f"{path}: {where}: {message}")

    def __reduce__(self):
        return (type(self), (self.path, self.where, self.message))


def one_line_warnings() -> None:
    """Show warnings as one line, ``rmtverify: warning: <message>``, each once (for the command line and its workers)."""
    import warnings

    def show(message, category, filename, lineno, file=None, line=None):
        import sys

        (file or sys.stderr).write(f"rmtverify: warning: {message}\n")

    warnings.showwarning = show
    warnings.simplefilter("once")
