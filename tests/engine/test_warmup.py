"""`python -m engine.warmup` compiles every kernel the app uses."""

from engine import fastpath, pictures
from engine.warmup import warm_up


def test_warm_up_compiles_the_kernels():
    assert warm_up() > 0
    assert fastpath.epoch_kernel.signatures
    assert fastpath.evaluate_kernel.signatures
    compiled = [f for f in vars(pictures).values() if hasattr(f, "signatures") and f.signatures]
    assert compiled, "the picture kernel was not compiled"
