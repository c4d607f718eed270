"""The two ways a computation refuses: bad input, and a solver that did not converge."""


class RmtVerifyError(Exception):
    """Base class of every error rmtverify raises on purpose."""


class InputError(RmtVerifyError, ValueError):
    """A parameter outside its allowed range; the message names both."""

    def __init__(self, parameter: str, message: str):
        self.parameter = parameter
        super().__init__(f"{parameter}: {message}")


class SolverError(RmtVerifyError, RuntimeError):
    """A solver that did not converge; ``tried`` says what it attempted."""

    def __init__(self, what: str, tried: str):
        self.what = what
        self.tried = tried
        super().__init__(f"{what} did not converge; tried {tried}")
