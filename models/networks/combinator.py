"""The ladder's "gauss" combinator (Rasmus et al. 2015, CuriousAI/ladder `g`): the decoder's estimate ẑ of a
level's clean value from its corrupted value z̃ (the lateral connection) and the projection u of the level above.

    μ = a1·σ(a2·u + a3) + a4·u + a5,  v = a6·σ(a7·u + a8) + a9·u + a10,  ẑ = (z̃ − μ)·v + μ

The ten parameters are per unit (a dense level), per channel (a convolutional level) or per channel and position,
and start as the reference's: a2 = a7 = 1, the other eight 0, so ẑ = 0 at the start, the same for both paths.
Without the lateral connection the estimate is μ alone, the part of the combinator that reads u.
"""

from common.keras_setup import keras, layers, tf

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
        self.a = self.add_weight(shape=(len(GAUSS_START), *own), initializer=_gauss_start, name="a")  # a1..a10 in
        # one variable: one optimizer update, not ten

    def call(self, noisy, u):
        if not self.lateral:
            a1, a2, a3, a4, a5 = ops.unstack(self.a[:5])
            return a1 * ops.sigmoid(a2 * u + a3) + a4 * u + a5
        return gauss(noisy, u, tf.identity(self.a.value))


def _gauss_start(shape, dtype=None):
    """a1..a10 as the reference starts them, each over the rest of `shape`."""
    return ops.broadcast_to(ops.reshape(ops.convert_to_tensor(GAUSS_START, dtype=dtype or "float32"),
                                        (len(GAUSS_START), *(1,) * (len(shape) - 1))), shape)


def gauss(noisy, u, a):
    """(z̃ − μ)·v + μ for the parameters `a` (a1..a10 stacked, each of the shape of the trailing axes of `u`), with
    its gradient written out: each parameter's is a sum over the leading axes, in fewer operations than
    differentiating the function step by step makes."""
    lead = list(range(len(u.shape) - len(a.shape) + 1))

    @tf.custom_gradient
    def forward(noisy, u, a):
        a1, a2, a3, a4, a5, a6, a7, a8, a9, a10 = tf.unstack(a)
        s1 = tf.sigmoid(a2 * u + a3)
        s2 = tf.sigmoid(a7 * u + a8)
        mean = a1 * s1 + a4 * u + a5
        scale = a6 * s2 + a9 * u + a10
        difference = noisy - mean

        def backward(g):
            d_mean = g - g * scale
            d_scale = g * difference
            d_1 = d_mean * a1 * s1 * (1 - s1)  # through σ(a2·u + a3)
            d_2 = d_scale * a6 * s2 * (1 - s2)  # through σ(a7·u + a8)
            d_u = d_1 * a2 + d_mean * a4 + d_2 * a7 + d_scale * a9
            total = lambda t: tf.reduce_sum(t, lead)  # noqa: E731
            d_a = tf.stack([total(d_mean * s1), total(d_1 * u), total(d_1), total(d_mean * u), total(d_mean),
                            total(d_scale * s2), total(d_2 * u), total(d_2), total(d_scale * u), total(d_scale)])
            return g * scale, d_u, d_a

        return difference * scale + mean, backward

    return forward(noisy, u, a)
