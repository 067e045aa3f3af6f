"""The input side: datasets, the paper's preprocessing, multi-crop evaluation.

    ds = inception.data.build_dataset(config.data, split="train", image_size=299,
                                      batch_size=32, training=True)
    model.fit(ds, epochs=2)     # one pass per epoch (the trainer's pipelines repeat)
    info = inception.data.dataset_info(config.data)  # classes and example counts
    steps = inception.data.steps_per_epoch(config.data, batch_size=32)

Modules, one job each:
  datasets.py       build_dataset / dataset_info / steps_per_epoch: dispatch to a source, then the pipeline
  imagenet.py       TFDS imagenet2012 from the manual directory; validation blacklist
  fashion_mnist.py  the embedded default: Debian's IDX files, else TFDS
  folder.py         a user's class sub-folders, for fine-tuning
  sharding.py       each tf.distribute input pipeline's part of the data
  pipeline.py       shuffle -> seeds -> decode+preprocess -> repeat -> batch -> prefetch
  decoding.py       bytes -> RGB, decoding only the crop window of JPEGs
  headers.py        an image's format and size from its first bytes
  encoded_batch.py  a serving request's bytes -> pixels, refusing oversized images
  preprocessing.py  training and evaluation preprocessing (the authors' code)
  multicrop.py      12 and 144 evaluation crops
  bad_images.py     skip, name and count unusable files; `skipped_images(split)`
  callbacks.py      `SkippedImagesLogger`, a Keras callback
"""

from inception.data.bad_images import SkippedImages, skipped_images
from inception.data.callbacks import SkippedImagesLogger
from inception.data.datasets import (
    SOURCES, SPLITS, DatasetInfo, build_dataset, dataset_info, steps_per_epoch)


__all__ = [
    "SOURCES",
    "SPLITS",
    "DatasetInfo",
    "SkippedImages",
    "SkippedImagesLogger",
    "build_dataset",
    "dataset_info",
    "skipped_images",
    "steps_per_epoch",
]
