"""The ladder's "gauss" combinator (Rasmus et al. 2015, CuriousAI/ladder `g`): the decoder's estimate ẑ of a
level's clean value from its corrupted value z̃ (the lateral connection) and the projection u of the level above.

    μ = a1·σ(a2·u + a3) + a4·u + a5,  v = a6·σ(a7·u + a8) + a9·u + a10,  ẑ = (z̃ − μ)·v + μ

The ten parameters are per unit (a dense level), per channel (a convolutional level) or per channel and position,
and start as the reference's: a2 = a7 = 1, the other eight 0, so ẑ = 0 at the start, the same for both paths.
Without the lateral connection the estimate is μ alone, the part of the combinator that reads u.
"""

from common.keras_setup import keras, layers

ops = keras.ops
GAUSS_START = (0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)  # a1..a10 as the reference initialises them
PER = ("unit", "channel")  # one set of parameters per unit (every position of a map too), or per channel


class Combinator(layers.Layer):
    """ẑ from z̃ and u (both of one level's shape); `lateral=False`: from u alone (μ)."""

    def __init__(self, *, lateral: bool = True, per: str = "unit", **kwargs):
        super().__init__(**kwargs)
        self.lateral = lateral
        self.per = per

    def build(self, shape):
        own = tuple(shape[1:]) if self.per == "unit" else (shape[-1],)
        self.a = [self.add_weight(shape=own, initializer=keras.initializers.Constant(start), name=f"a{i}")
                  for i, start in enumerate(GAUSS_START, start=1)]

    def call(self, noisy, u):
        a1, a2, a3, a4, a5, a6, a7, a8, a9, a10 = self.a
        mean = a1 * ops.sigmoid(a2 * u + a3) + a4 * u + a5
        if not self.lateral:
            return mean
        scale = a6 * ops.sigmoid(a7 * u + a8) + a9 * u + a10
        return (noisy - mean) * scale + mean
