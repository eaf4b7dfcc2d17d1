"""Replicate R. Hicks (2018), "Using Autograd for Maximum Likelihood Estimation", with mleopt.

    python examples/replicate_mle_autograd.py            # full run, about a minute
    python examples/replicate_mle_autograd.py --quick    # each timing once
    python examples/replicate_mle_autograd.py --ks 10 50 # a shorter speed table

The same as ``mleopt replicate``. The code lives in mleopt/replication.py (so the installed
command works without this folder); read it there: step 1 (exact derivatives of the
Cobb-Douglas function), step 2 (OLS by maximum likelihood, the tutorial's log-likelihood with
only the imports changed) and step 3 (the speed-up table) are one function each.
"""
import sys

from mleopt.replication import main

if __name__ == "__main__":
    sys.exit(main())
