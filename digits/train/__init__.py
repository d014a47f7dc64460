"""Fitting the two classifiers.

- ``models``: the architectures, as ``keras.Sequential`` built from params
- ``inputs``: the training batches, in memory or streamed from shards
- ``training``: one ``fit`` per epoch, seeded, with the non-finite checks
- ``checkpoint``: resuming after a kill; ``distribute``: the ``tf.distribute`` strategy
- ``calibration``: temperature scaling, baked into the saved model
"""
