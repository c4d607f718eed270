"""rmtverify — a symbolic-numeric verifier for the random-matrix theory of masked SSR."""

__version__ = "0.1.0"
