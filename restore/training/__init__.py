"""Training, training data and evaluation of the learned models; the networks themselves are
defined on the inference side (``restore.inpainting.gan`` / ``unet``,
``restore.perception.net``, ``restore.reconstruction.depth_net``) and loaded from
``restore/weights/`` (:func:`restore.hub.resolve_weights`).

- ``config`` / ``cli``: one :class:`~restore.training.config.TrainConfig` and one command,
  ``restore train --model {gan,unet,statue-net,statue-depth}``;
- ``inpainter``, ``statue_net``, ``depth``: the trainers, each a ``train(config)``;
- ``inpainting_data`` / ``inpainting_augment``: the inpainters' crops and augmentations;
  ``statue_data``: the shard cache of rendered statues (``python -m
  restore.training.statue_data``) and statue-net's augmentations; ``dataset``: real photos
  into a training folder (``restore dataset build``);
- ``evaluate`` (``restore evaluate``) and ``arm_quality``: measurements of restores.

Imports run one way: modules here import the inference packages and :mod:`restore.synth`;
nothing outside ``restore.training`` and ``restore.synth`` imports them
(``tests/test_layout.py`` checks it). Nothing is imported here, so ``import
restore.training.x`` loads only what ``x`` needs.
"""
