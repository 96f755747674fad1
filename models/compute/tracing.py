"""What keeps a training step from being traced twice: the optimizer's variables made before the first step."""


def build_optimizer(model) -> None:
    """Create the optimizer's variables before the first training step. Left to that step, their creation makes
    TensorFlow trace the training step twice (once to create them, once to run it): 3-6 s more at the start of
    every fit on 2 cores, and the same weights either way. A model that updates only some of its variables names
    them with `optimized_variables()` (models/networks/joint.py)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or optimizer.built:
        return
    chosen = getattr(model, "optimized_variables", None)
    optimizer.build(chosen() if chosen is not None else model.trainable_variables)
