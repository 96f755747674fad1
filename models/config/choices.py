"""Values both programs' settings share: the optimizers, the learning-rate schedules, how the encoder pools."""

OPTIMIZERS = ("adam", "rmsprop", "sgd")
SCHEDULES = ("constant", "cosine", "plateau")  # the learning rate: fixed, cosine decay to 0, halved on plateaus
POOLED_BLOCKS = 2  # max-pooling after the first two encoder blocks, up-sampling after the last two decoder blocks
SIDE_MULTIPLE = 2 ** POOLED_BLOCKS  # what the images' sides must be multiples of
BLOCK_ORDERS = ("post-activation", "pre-activation")  # an encoder block: Conv2D (ReLU) then BatchNormalization,
# or the ladder paper's Conv2D (linear), BatchNormalization (shift, no scale), ReLU
