"""Training, training data and evaluation of the learned models (the inference side's
networks are defined in the stage packages and loaded from ``weights/``).

The direction of imports is one way: modules here import the inference packages (networks,
masks, poses) and :mod:`restore.synth`; nothing in the inference packages imports this
package (``tests/test_layout.py`` checks it). Nothing is imported here, so
``import restore.training.x`` loads only what ``x`` needs.
"""
