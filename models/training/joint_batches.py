"""The batches of joint training (models/joint.py): a labelled batch and a batch of images to reconstruct per step."""

from common.keras_setup import tf
from models.training.batches import PREFETCH, batches, untuned


def joint_batches(train, images, batch_size: int, seed: int, images_per_step: int = 0):
    """((labelled images, labels), images to reconstruct) batches for one epoch: one pass over `images` in a
    seeded order reshuffled every epoch, `images_per_step` of them a step (0: `batch_size`), each batch paired with
    the next batch of `train` (images, labels), cycled and reshuffled at every pass. Short last batches are
    dropped, so every step has the same shape."""
    labelled_batch = min(batch_size, len(train[0]))
    labelled = batches(*train, labelled_batch, seed=seed, drop_remainder=True).repeat()
    reconstruct = batches(images, None, images_per_step or batch_size, seed=seed + 1, drop_remainder=True).map(
        lambda x, _: x)
    return tf.data.Dataset.zip((labelled, reconstruct)).prefetch(PREFETCH).with_options(untuned())
