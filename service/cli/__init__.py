"""The `exportcast` command line: imports the rest of the project, imported by nothing.

Every command fits models in this process too (the final fit of `forecast`, a backtest
with `--jobs 1`); on two cores a BLAS that spreads small matrices over threads ran up to
ten times slower there, so one BLAS thread is asked for before numpy loads (an explicit
OMP/OPENBLAS/MKL_NUM_THREADS setting wins).
"""

from exportcast.models.parallel import single_threaded_blas

single_threaded_blas()
